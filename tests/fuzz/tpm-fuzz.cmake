# tpm/ fuzz targets: the TSS2 PRIVATE KEY parser and public-area checks (corpus: key files
# written by hwsign and tpm2-openssl, and malformed variants).
# The parsing modules are compiled into the harness so a libFuzzer build instruments them.
if(TARGET hwsign_tpm)
  hwsign_fuzz(tpm-keyfile SOURCES fuzz-tpm-keyfile.c ${PROJECT_SOURCE_DIR}/tpm/tpm-keyfile.c
    ${PROJECT_SOURCE_DIR}/tpm/tpm-key.c ${PROJECT_SOURCE_DIR}/lib/util/sbuf.c
    ${PROJECT_SOURCE_DIR}/lib/util/format.c LIBS hwsign_tpm)
  foreach(v fuzz-tpm-keyfile-replay fuzz-tpm-keyfile)
    if(TARGET ${v})
      target_compile_definitions(${v} PRIVATE _GNU_SOURCE)
    endif()
  endforeach()
endif()
