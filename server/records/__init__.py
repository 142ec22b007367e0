"""Records: the one write path (validate → number → store → audit), listing, history, export."""
