"""One module per kind of stack; each stack only composes constructs from wimpy_constructs."""
