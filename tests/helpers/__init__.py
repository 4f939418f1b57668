"""What tests share besides fixtures: server processes, raw HTTP, a TCP proxy, throwaway databases, query plans."""
