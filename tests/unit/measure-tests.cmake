# Unit tests of the agent's build measurement (agent/measure.c): real child processes through the
# real /proc, fake /proc and / trees in temporary directories, parser tables, toolchain cache;
# and a sweep that fails every allocation in turn.
if(TARGET hwsign_agent_core)
  hwsign_unit_test(test-measure SOURCES test-measure.c LIBS hwsign_agent_core)
  hwsign_unit_test(test-measure-alloc SOURCES test-measure-alloc.c LIBS hwsign_agent_core
    WRAPS malloc calloc strdup strndup)
endif()
