//go:build !unix

package main

import "os"

// maxRSS is not known off Unix.
func maxRSS(*os.ProcessState) int64 { return 0 }
