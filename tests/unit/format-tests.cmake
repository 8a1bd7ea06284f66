# Unit tests of lib/format (DSSE, in-toto Statement, Sigstore bundle).
hwsign_unit_test(test-dsse SOURCES test-dsse.c LIBS hwsign_format)
hwsign_unit_test(test-intoto SOURCES test-intoto.c LIBS hwsign_format)
hwsign_unit_test(test-bundle SOURCES test-bundle.c LIBS hwsign_format)
# Bundles made by independent signers (make_bundle.py, openssl dgst): tests/data/format/README.
target_compile_definitions(test-bundle PRIVATE
  FORMAT_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data/format")
