"""The plant twin: the simulator's plant and the tracker's bus, domain and planner in one
process under a virtual clock, with no broker and a throwaway SQLite database."""
