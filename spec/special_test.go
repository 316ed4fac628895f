package spec

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesSpecialFiles: a device or a named pipe given to -f is
// refused from its type, before a byte is read: /dev/zero is not read up
// to the cap, and a named pipe nobody writes to does not block the open.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero: cannot read: not a regular file (a device); use - for standard input"},
		{fifo, fifo + ": cannot read: not a regular file (a named pipe); use - for standard input"},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := Load([]string{tc.path})
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || err.Error() != tc.want {
					t.Fatalf("Load = %v, want %q", err, tc.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("Load(%s) did not return", tc.path)
			}
		})
	}
}

// TestLoadContextStopsReadingStdin: -f - with a standard input nobody
// writes to returns once the context ends, with its cause.
func TestLoadContextStopsReadingStdin(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	cause := errors.New("interrupt signal received")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := LoadContext(ctx, []string{"-"}, r)
		done <- err
	}()
	if _, err := w.Write([]byte("version: 1\n")); err != nil { // returns once the loader reads
		t.Fatal(err)
	}
	cancel(cause)
	err := <-done
	if !errors.Is(err, cause) || err.Error() != Stdin+": cannot read: interrupt signal received" {
		t.Fatalf("LoadContext = %v, want the cause", err)
	}
}
