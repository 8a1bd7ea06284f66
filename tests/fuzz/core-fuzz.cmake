# Fuzz harnesses for the wire codec (lib/proto) and the agent core (corpora in corpus/<target>/).
#
# The production sources a harness exercises are compiled into it (rather than only linked from
# their static libraries) so that, in a libFuzzer build, they carry -fsanitize=fuzzer coverage
# instrumentation; the libraries still supply everything else. Each listed file is a whole
# module, so its archive member is never pulled in as well.
set(_src ${PROJECT_SOURCE_DIR})
set(_agent_srcs
  ${_src}/agent/server.c ${_src}/agent/conn.c ${_src}/agent/peer.c ${_src}/agent/policy.c
  ${_src}/agent/dispatch.c ${_src}/agent/handle-keys.c ${_src}/agent/handle-sign.c
  ${_src}/agent/keystore.c ${_src}/agent/config.c ${_src}/agent/journal.c ${_src}/agent/worker.c)

hwsign_fuzz(proto SOURCES fuzz-proto.c ${_src}/lib/proto/proto.c ${_src}/lib/util/sbuf.c
  ${_src}/lib/util/parse.c LIBS hwsign_proto)

if(TARGET hwsign_agent_core)
  hwsign_fuzz(config SOURCES fuzz-config.c ${_src}/agent/config.c ${_src}/lib/util/parse.c
    LIBS hwsign_agent_core)
  hwsign_fuzz(keystore SOURCES fuzz-keystore.c ${_src}/agent/keystore.c ${_src}/lib/util/format.c
    ${_src}/lib/util/parse.c LIBS hwsign_agent_core)
  # The real dispatcher against fake backends (tests/unit/fake-backend.c); log_event silenced.
  hwsign_fuzz(dispatch SOURCES fuzz-dispatch.c ${_src}/tests/unit/fake-backend.c ${_agent_srcs}
    ${_src}/lib/proto/proto.c ${_src}/lib/util/sbuf.c ${_src}/lib/util/parse.c
    LIBS hwsign_agent_core)
  foreach(t fuzz-config fuzz-keystore fuzz-dispatch)
    foreach(v ${t}-replay ${t})
      if(TARGET ${v})
        target_compile_definitions(${v} PRIVATE _GNU_SOURCE)
        target_include_directories(${v} PRIVATE ${_src}/tests/unit)
      endif()
    endforeach()
  endforeach()
  foreach(v fuzz-dispatch-replay fuzz-dispatch)
    if(TARGET ${v})
      target_link_options(${v} PRIVATE -Wl,--wrap=log_event)
    endif()
  endforeach()
endif()
