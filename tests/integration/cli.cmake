# SPDX-License-Identifier: Apache-2.0
# The hwsign CLI without an agent: usage errors, --help, exit codes, offline verify against
# openssl-made signatures. Included from tests/integration/CMakeLists.txt.
if(TARGET hwsign-cli)
  add_test(NAME integration/cli-usage
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli-usage.sh $<TARGET_FILE:hwsign-cli>)
  set_tests_properties(integration/cli-usage PROPERTIES LABELS integration TIMEOUT 120)
endif()
