package main

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/metrics"
)

// benchMemStatsEnv names a file to which the process writes its memory
// statistics as JSON at exit. It is a hidden hook for ./bench, which runs
// tokensync as a child process; it is not a flag and not documented for
// users.
const benchMemStatsEnv = "TOKENSYNC_BENCH_MEMSTATS"

// writeBenchMemStats writes the memory statistics when benchMemStatsEnv is
// set. HeapSys is the runtime's estimate of the largest size the heap has
// had: the peak heap. GOGC is the collector's pace (see tuneGC).
func writeBenchMemStats(getenv func(string) string) {
	path := getenv(benchMemStatsEnv)
	if path == "" {
		return
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	data, err := json.Marshal(struct {
		HeapSys    uint64 `json:"heapSys"`
		HeapInuse  uint64 `json:"heapInuse"`
		TotalAlloc uint64 `json:"totalAlloc"`
		NumGC      uint32 `json:"numGC"`
		GOGC       uint64 `json:"gogc"`
	}{m.HeapSys, m.HeapInuse, m.TotalAlloc, m.NumGC, gogc[0].Value.Uint64()})
	if err == nil {
		_ = os.WriteFile(path, data, 0o600)
	}
}
