"""The local engine: OpenWhisk's actions, triggers and rules on one machine."""
