"""Route modules, one per domain. Routes hold no domain logic: HTTP in, one service
call, response model out."""
