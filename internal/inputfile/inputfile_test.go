package inputfile

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadRefusals: what is not a regular file, or is over the cap, is
// refused without being read; a named pipe without a writer does not block
// (the test would hang).
func TestReadRefusals(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse")
	writeFile(t, sparse, "")
	if err := os.Truncate(sparse, 1<<40); err != nil { // a terabyte, without the disk
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"device", "/dev/zero", "not a regular file (a device)"},
		{"link to a device", link, "not a regular file (a device)"},
		{"named pipe", fifo, "not a regular file (a named pipe)"},
		{"directory", dir, "not a regular file (a directory)"},
		{"over the cap", sparse, "1099511627776 bytes, larger than the 64 KiB cap"},
		{"missing", filepath.Join(dir, "none"), "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Read(context.Background(), tc.path, 64<<10)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Read = %d bytes, %v; want %q", len(data), err, tc.want)
			}
		})
	}
}

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 7} {
		path := filepath.Join(dir, "f")
		want := strings.Repeat("x", size)
		writeFile(t, path, want)
		got, err := Read(context.Background(), path, 4*chunk)
		if err != nil || string(got) != want {
			t.Fatalf("size %d: Read = %d bytes, %v", size, len(got), err)
		}
	}
	path := filepath.Join(dir, "at-cap")
	writeFile(t, path, "12345")
	if _, err := Read(context.Background(), path, 5); err != nil {
		t.Errorf("a file of exactly the cap: %v", err)
	}
	var tl *TooLargeError
	if _, err := Read(context.Background(), path, 4); !errors.As(err, &tl) || tl.Size != 5 {
		t.Errorf("a byte over the cap: %v", err)
	}
}

// TestReadAllStopsAtTheCap: an endless stream is cut a byte past the cap.
func TestReadAllStopsAtTheCap(t *testing.T) {
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	_, err = ReadAll(context.Background(), zero, 3*chunk+5)
	if err == nil || err.Error() != "larger than the 3145733 bytes cap" {
		t.Fatalf("ReadAll of /dev/zero: %v", err)
	}
	got, err := ReadAll(context.Background(), strings.NewReader("abc"), 3)
	if err != nil || string(got) != "abc" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
}

// TestReadAllReturnsWhenTheContextEnds: a read that blocks forever (a pipe
// nobody writes to) returns the context's cause once it ends.
func TestReadAllReturnsWhenTheContextEnds(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("interrupt signal received")
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := ReadAll(ctx, readNotifier{r, started}, 1<<20)
		done <- err
	}()
	<-started
	cancel(cause)
	if err := <-done; err != cause {
		t.Fatalf("ReadAll = %v, want %v", err, cause)
	}
}

// readNotifier closes started at its first read.
type readNotifier struct {
	r       io.Reader
	started chan struct{}
}

func (n readNotifier) Read(p []byte) (int, error) {
	close(n.started)
	return n.r.Read(p)
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{
		64 << 10: "64 KiB", 4 << 20: "4 MiB", 512 << 20: "512 MiB", 1 << 30: "1 GiB", 1000: "1000 bytes", 3<<20 + 1: "3145729 bytes",
	} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
