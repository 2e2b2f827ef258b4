"""`make local` and `make load`: the whole alert path as processes on 127.0.0.1, no cluster."""
