"""The four pipeline stages behind the OpenWhisk actions of the same names."""
