# tpm/ tests: TSS2_RC classification, the key-file codec, the backend against a fake ESAPI
# (-Wl,--wrap of Esys_* and the TCTI loader), and a real swtpm integration test (label
# "integration"; it starts and stops its own swtpm and skips when swtpm is not installed).
# The swtpm tests share swtpm-fixture.c (a private swtpm in a temporary directory).
if(TARGET hwsign_tpm)
  hwsign_unit_test(test-tpm-rc SOURCES test-tpm-rc.c LIBS hwsign_tpm)
  hwsign_unit_test(test-tpm-keyfile SOURCES test-tpm-keyfile.c LIBS hwsign_tpm)
  hwsign_unit_test(test-tpm-backend SOURCES test-tpm-backend.c LIBS hwsign_tpm
    WRAPS Tss2_TctiLdr_Initialize Tss2_TctiLdr_Finalize Esys_Initialize Esys_Finalize
          Esys_Startup Esys_GetCapability Esys_CreatePrimary Esys_Create Esys_Load Esys_Sign
          Esys_FlushContext)
  hwsign_unit_test(test-tpm-swtpm SOURCES test-tpm-swtpm.c swtpm-fixture.c LIBS hwsign_tpm)
  set_tests_properties(unit/test-tpm-swtpm PROPERTIES LABELS integration TIMEOUT 300)
  # AK + TPM2_Quote on swtpm, checked with tpm2_checkquote (tpm2-tools, offline).
  hwsign_unit_test(test-tpm-quote SOURCES test-tpm-quote.c swtpm-fixture.c LIBS hwsign_tpm)
  set_tests_properties(unit/test-tpm-quote PROPERTIES LABELS integration TIMEOUT 300)
  foreach(t test-tpm-rc test-tpm-keyfile test-tpm-backend test-tpm-swtpm test-tpm-quote)
    target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
  endforeach()
endif()
