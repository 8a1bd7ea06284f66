# Unit tests of the wire codec (lib/proto) and the agent core (agent/, via hwsign_agent_core).
hwsign_unit_test(test-proto SOURCES test-proto.c LIBS hwsign_proto)
if(TARGET hwsign_agent_core)
  hwsign_unit_test(test-config SOURCES test-config.c LIBS hwsign_agent_core)
  hwsign_unit_test(test-policy SOURCES test-policy.c LIBS hwsign_agent_core)
  hwsign_unit_test(test-keystore SOURCES test-keystore.c LIBS hwsign_agent_core)
  # The agent end to end: real server, workers and client library against fake backends, on the
  # shared fixture agent-loop-fixture.c. test-agent-loop: the event loop; test-agent-stage:
  # staged statements. log_event is wrapped to keep the agent's log lines out of the test output.
  hwsign_unit_test(test-agent-loop SOURCES test-agent-loop.c agent-loop-fixture.c fake-backend.c
    LIBS hwsign_agent_core hwsign Threads::Threads WRAPS log_event)
  set_tests_properties(unit/test-agent-loop PROPERTIES TIMEOUT 180)
  hwsign_unit_test(test-agent-stage SOURCES test-agent-stage.c agent-loop-fixture.c fake-backend.c
    LIBS hwsign_agent_core hwsign Threads::Threads WRAPS log_event)
  set_tests_properties(unit/test-agent-stage PROPERTIES TIMEOUT 180)
endif()
