//go:build !unix

package main

import (
	"os"
	"time"
)

// maxRSS is not known off Unix.
func maxRSS(*os.ProcessState) int64 { return 0 }

// cpuTime is not known off Unix.
func cpuTime() time.Duration { return 0 }
