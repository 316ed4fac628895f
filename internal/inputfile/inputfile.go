// Package inputfile reads the files tokensync is given (spec files, saved
// reports and plans, the token file, emulator state): whole, only when they
// are regular files, never more than a cap that fits what the file holds,
// and stopping as soon as the context ends.
//
// A device (/dev/zero, /dev/random), a named pipe, a socket or a directory
// is refused before a byte is read; so is a regular file over the cap,
// from its size. A named pipe is opened without blocking, so one swapped
// in between the check and the open does not hang the process: the opened
// file is checked again. Standard input, where a command reads it, goes
// through ReadAll, which has the same cap and the same way out.
//
// Errors do not repeat the file's name: the caller names the flag and the
// file, as in "--token-file /x: larger than the 64 KiB cap".
package inputfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// chunk is the most read at once between two looks at the context.
const chunk = 1 << 20

// TooLargeError is a file over its cap.
type TooLargeError struct {
	Size  int64 // the file's size, or -1 when it is known only to be over the cap
	Limit int64 // the cap, in bytes
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return "larger than the " + Bytes(e.Limit) + " cap"
	}
	return fmt.Sprintf("%d bytes, larger than the %s cap", e.Size, Bytes(e.Limit))
}

// NotRegularError is a file that is not a regular file: a device, a named
// pipe, a socket or a directory.
type NotRegularError struct {
	Kind string // "a device", "a named pipe", …
}

func (e *NotRegularError) Error() string { return "not a regular file (" + e.Kind + ")" }

// Read reads the regular file name whole, refusing it when it is not a
// regular file (symbolic links are followed) or holds more than limit
// bytes, and returning the context's cause once ctx ends.
func Read(ctx context.Context, name string, limit int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, pathless(err)
	}
	if err := check(fi, limit); err != nil {
		return nil, err
	}
	// O_NONBLOCK: opening a named pipe put there since the Stat returns at
	// once instead of waiting for a writer; the check below refuses it.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, pathless(err)
	}
	if err := check(fi, limit); err != nil {
		return nil, err
	}
	return read(ctx, f, limit, fi.Size())
}

// ReadAll reads r (standard input) to its end, refusing more than limit
// bytes, and returns the context's cause as soon as ctx ends, even while a
// read is blocked: that read is then left to finish on its own.
func ReadAll(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	return read(ctx, r, limit, 0)
}

// check refuses what is not a regular file, and a regular file over limit.
func check(fi fs.FileInfo, limit int64) error {
	if kind := kindOf(fi.Mode()); kind != "" {
		return &NotRegularError{Kind: kind}
	}
	if fi.Size() > limit {
		return &TooLargeError{Size: fi.Size(), Limit: limit}
	}
	return nil
}

// kindOf names the kind of a file that is not regular, "" for one that is.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// read reads r to its end in a goroutine, chunk by chunk, so that the
// caller returns when ctx ends even if a read blocks; the goroutine stops
// at its next chunk. size is what r is expected to hold (0 if unknown): the
// buffer is sized for it once.
func read(ctx context.Context, r io.Reader, limit, size int64) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := readChunks(ctx, r, limit, size)
		done <- result{data, err}
	}()
	select {
	case res := <-done:
		return res.data, res.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// readChunks reads at most limit+1 bytes of r, looking at ctx before each
// chunk.
func readChunks(ctx context.Context, r io.Reader, limit, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(size, limit)+1)
	r = io.LimitReader(r, limit+1)
	for {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), len(buf)+chunk)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{Size: -1, Limit: limit}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, pathless(err)
		}
	}
}

// pathless is err without the path an *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Bytes writes a cap for people: "64 KiB", "4 MiB", "512 MiB", or bytes.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
