"""One adapter per external tool. Each builds its own command lines; nothing else does."""
