# Unit tests of the client-side inputs of `hwsign attest` (cli/attest-digest.c, attest-git.c,
# attest-run.c, gathered by attest-inputs.h): real files, real git repositories and real child
# processes in temporary directories.
hwsign_unit_test(test-attest-inputs SOURCES test-attest-inputs.c
  LIBS hwsign_cli_core hwsign_format hwsign_util Threads::Threads)
# Exit 77 when git is not installed.
set_tests_properties(unit/test-attest-inputs PROPERTIES SKIP_RETURN_CODE 77)
