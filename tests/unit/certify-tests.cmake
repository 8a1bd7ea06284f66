# TPM2_Certify of signing keys by the attestation key (tpm/tpm-certify.c), and the offline
# verifier of certify proofs and quotes with their PCR values (lib/format/tpm-attest.c). The swtpm
# tests share swtpm-fixture.c (tpm-tests.cmake).
if(TARGET hwsign_tpm)
  # The pure verifier on proofs and quotes built with tss2-mu and signed by OpenSSL keys: no TPM.
  hwsign_unit_test(test-tpm-attest SOURCES test-tpm-attest.c LIBS hwsign_format PkgConfig::TSS2)
  # A real swtpm (label "integration"; skips when swtpm is not installed): certify, then check
  # with our verifier, tpm2_print and openssl dgst.
  hwsign_unit_test(test-tpm-certify SOURCES test-tpm-certify.c swtpm-fixture.c
    LIBS hwsign_tpm hwsign_format)
  set_tests_properties(unit/test-tpm-certify PROPERTIES LABELS integration TIMEOUT 300)
  # A real swtpm (label "integration"; skips when swtpm is not installed): quotes verified by our
  # verifier and tpm2_checkquote, before and after tpm2_pcrextend; tpm2_quote's own files.
  hwsign_unit_test(test-tpm-quote-verify SOURCES test-tpm-quote-verify.c swtpm-fixture.c
    LIBS hwsign_tpm hwsign_format)
  set_tests_properties(unit/test-tpm-quote-verify PROPERTIES LABELS integration TIMEOUT 300)
  foreach(t test-tpm-attest test-tpm-certify test-tpm-quote-verify)
    target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
  endforeach()
endif()
