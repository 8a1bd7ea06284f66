# SPDX-License-Identifier: Apache-2.0
# Power-loss crash images of the signing log (RELIABILITY #23; tests/crash/README.md):
#   ioshim.so        LD_PRELOAD recorder of every write/sync on one file (tests/crash/ioshim.c)
#   test-crashcheck  crash-image generator (crashimg.c) + the agent's own recovery
#                    (auditlog_open) + checks (crashcheck.c)
#   test-crashimg    cmocka tests of the generator on synthetic traces (test-crashimg.c)
#   test-tailscan    logrec_scan on crafted unsynced-batch holes and damage (tailscan.c)
# power-loss.sh records a real agent signing >= 1000 times under the shim and checks every
# crash point. Included from tests/integration/CMakeLists.txt.
if(TARGET hwsign_agent_core AND TARGET hwsign_format)
  set(HWSIGN_CRASH_DIR ${CMAKE_CURRENT_LIST_DIR}/../crash)

  # The shim is injected into the agent: no sanitizer instrumentation of its own (in a
  # sanitizer build the agent's interceptors chain to it through dlsym(RTLD_NEXT)).
  add_library(hwsign_ioshim MODULE ${HWSIGN_CRASH_DIR}/ioshim.c)
  set_target_properties(hwsign_ioshim PROPERTIES PREFIX "" OUTPUT_NAME ioshim)
  target_link_libraries(hwsign_ioshim PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
  foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(_hwsign_opts hwsign_ioshim ${prop})
    if(_hwsign_opts)
      list(FILTER _hwsign_opts EXCLUDE REGEX "sanitize")
      set_property(TARGET hwsign_ioshim PROPERTY ${prop} ${_hwsign_opts})
    endif()
  endforeach()

  add_executable(test-crashcheck ${HWSIGN_CRASH_DIR}/crashcheck.c ${HWSIGN_CRASH_DIR}/crashimg.c)
  target_include_directories(test-crashcheck PRIVATE ${HWSIGN_CRASH_DIR})
  target_compile_definitions(test-crashcheck PRIVATE _GNU_SOURCE)
  target_link_libraries(test-crashcheck PRIVATE hwsign_agent_core hwsign_format hwsign_util)

  if(COMMAND hwsign_unit_test)
    hwsign_unit_test(test-crashimg
      SOURCES ${HWSIGN_CRASH_DIR}/test-crashimg.c ${HWSIGN_CRASH_DIR}/crashimg.c LIBS hwsign_util)
    target_include_directories(test-crashimg PRIVATE ${HWSIGN_CRASH_DIR})
  endif()

  add_executable(test-tailscan ${HWSIGN_CRASH_DIR}/tailscan.c)
  target_link_libraries(test-tailscan PRIVATE hwsign_format hwsign_util)
  if(TARGET test-mklog)
    add_test(NAME unit/tailscan COMMAND bash -c
      "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; \"$0\" \"$d/log\" 1200 >/dev/null; \"$1\" \"$d/log\""
      $<TARGET_FILE:test-mklog> $<TARGET_FILE:test-tailscan>)
    set_tests_properties(unit/tailscan PROPERTIES LABELS unit TIMEOUT 120)
  endif()

  # Sanitizer builds check every crash point with a smaller image budget (--quick).
  add_test(NAME integration/power-loss COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/power-loss.sh)
  set_tests_properties(integration/power-loss PROPERTIES LABELS integration TIMEOUT 600
    ENVIRONMENT "HWSIGN_BUILD=${CMAKE_BINARY_DIR};HWSIGN_SANITIZE=$<BOOL:${HWSIGN_SANITIZE}>")
endif()
