-- wrk script for the board-read benchmark (BENCHMARKS.md, "Server"):
-- TOKEN=... wrk -t2 -c32 -d10s -s kernel/server/benches/board.lua http://127.0.0.1:8080/api/v1/isms/ID/board
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
