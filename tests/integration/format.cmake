# SPDX-License-Identifier: Apache-2.0
# lib/format interop: bundles made by our code (mkbundle, OpenSSL software key) verified by
# @sigstore/verify (pinned in npm/package-lock.json, installed once per build tree) and by
# `openssl dgst`. Included from tests/integration/CMakeLists.txt. Skips (77) without node/npm
# or when the pinned packages can neither be installed nor found in the npm cache.
if(TARGET hwsign_format)
  add_executable(test-mkbundle ${CMAKE_CURRENT_LIST_DIR}/mkbundle.c)
  target_link_libraries(test-mkbundle PRIVATE hwsign_format hwsign_util)
  add_test(NAME integration/bundle-interop
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/bundle-interop.sh $<TARGET_FILE:test-mkbundle>)
  set_tests_properties(integration/bundle-interop PROPERTIES LABELS integration TIMEOUT 300
    SKIP_RETURN_CODE 77 ENVIRONMENT "HWSIGN_BUILD=${CMAKE_BINARY_DIR}")
endif()
