# Unit tests of lib/util (one test binary per module).
hwsign_unit_test(test-sbuf SOURCES test-sbuf.c LIBS hwsign_util WRAPS malloc calloc)
hwsign_unit_test(test-format SOURCES test-format.c LIBS hwsign_util)
hwsign_unit_test(test-secret SOURCES test-secret.c LIBS hwsign_util)
hwsign_unit_test(test-secret-source SOURCES test-secret-source.c LIBS hwsign_util)
hwsign_unit_test(test-parse SOURCES test-parse.c LIBS hwsign_util)
hwsign_unit_test(test-fd-util SOURCES test-fd-util.c LIBS hwsign_util Threads::Threads)
hwsign_unit_test(test-crypto SOURCES test-crypto.c LIBS hwsign_util)
