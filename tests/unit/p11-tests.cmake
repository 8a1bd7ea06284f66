# pkcs11/ tests: RFC 7512 parser, CK_RV table, backend with --wrap mocks of libp11, and a real
# SoftHSM2 integration test (label "integration").
hwsign_unit_test(test-p11-uri SOURCES test-p11-uri.c LIBS hwsign_p11)
hwsign_unit_test(test-p11-rv SOURCES test-p11-rv.c LIBS hwsign_p11)
hwsign_unit_test(test-p11-backend SOURCES test-p11-backend.c LIBS hwsign_p11
  WRAPS PKCS11_CTX_new PKCS11_CTX_load PKCS11_CTX_unload PKCS11_CTX_free
        PKCS11_enumerate_slots PKCS11_release_all_slots PKCS11_get_slotid_from_slot
        PKCS11_open_session PKCS11_login PKCS11_enumerate_keys PKCS11_get_private_key
        p11_module_function_list EVP_PKEY_sign)

hwsign_unit_test(test-p11-softhsm SOURCES test-p11-softhsm.c LIBS hwsign_p11
  WRAPS PKCS11_login)

set_tests_properties(unit/test-p11-softhsm PROPERTIES LABELS integration TIMEOUT 300)
foreach(t test-p11-uri test-p11-rv test-p11-backend test-p11-softhsm)
  target_include_directories(${t} PRIVATE ${P11KIT_INCLUDE_DIRS})
endforeach()
