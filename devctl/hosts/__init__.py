"""The hosts-file entry for the cluster's host, the only code that touches the hosts file.

- ``block``: devctl's marked block as pure functions from the file's bytes to new bytes (parse, plan);
- ``safe_write``: reading and writing the file safely (strict read, lock, backup, atomic replace);
- ``entry``: what the commands do with it (add, remove, judge; sudo and WSL).
"""
