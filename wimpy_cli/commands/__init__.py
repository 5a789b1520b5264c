"""One module per command: each validates its input, executes, then says what to do next."""
