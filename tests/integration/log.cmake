# SPDX-License-Identifier: Apache-2.0
# The signing log without the agent: test-mklog writes valid logs (lib/format/logrec.h) that
# log-tamper.sh damages and checks with `hwsign log verify|search`. Included from
# tests/integration/CMakeLists.txt; log-tamper.sh itself is registered by the foreach there
# and finds test-mklog at $HWSIGN_BUILD/tests/integration/test-mklog.
if(TARGET hwsign_format)
  add_executable(test-mklog ${CMAKE_CURRENT_LIST_DIR}/mklog.c)
  target_link_libraries(test-mklog PRIVATE hwsign_format hwsign_util)
endif()
