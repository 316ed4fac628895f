package main

import "runtime/debug"

// gcPercent is the collector's pace when GOGC is not set: the heap may grow
// to four times what is live before a collection, not Go's twice. A run of
// tokensync is short, and most of what it allocates is garbage within
// moments (the YAML node trees of its spec, the pages of every list), so
// collecting about a third as often costs memory it gives back at exit and
// saves about a fifth of the CPU of a plan of a large organization (see
// docs/benchmarks.md). GOGC and GOMEMLIMIT still mean what Go says.
const gcPercent = 300

// tuneGC sets the collector's pace to gcPercent for the command line args,
// unless GOGC is set. The emulator, which serves until it is stopped, keeps
// Go's pace: its heap would stay at four times its state for as long as it
// runs. (No flag may come before the emulator command.)
func tuneGC(getenv func(string) string, args []string) {
	if getenv("GOGC") == "" && (len(args) == 0 || args[0] != "emulator") {
		debug.SetGCPercent(gcPercent)
	}
}
