// Command reader is the storm benchmark's floor for a Go runner: a hand-written
// cilium/ebpf consumer of the storm package's ring buffer that formats each 24-byte event
// with strconv into a bufio.Writer, flushes when the ring is empty and, with -pause, waits
// that long after a drain of more than 64 records so the kernel wakes it once per batch.
//
//	reader -pkg bench/storm/storm.json -pid PID [-pause 1ms] > out
//
// It prints the header once attached, the lines, and on SIGINT/SIGTERM "lost N" (the
// program's dropped counter) on standard error.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

func main() {
	pkg := flag.String("pkg", "bench/storm/storm.json", "the storm package")
	pid := flag.Uint("pid", 0, "trace this PID only")
	pause := flag.Duration("pause", 0, "wait this long after a drain of more than 64 records")
	flag.Parse()
	if err := run(*pkg, uint32(*pid), *pause); err != nil {
		fmt.Fprintln(os.Stderr, "reader:", err)
		os.Exit(1)
	}
}

// object returns the BPF ELF object inside a package (base64 of zlib).
func object(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var env struct {
		Object string `json:"bpf_object"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, err
	}
	z, err := base64.StdEncoding.DecodeString(env.Object)
	if err != nil {
		return nil, err
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func run(pkg string, pid uint32, pause time.Duration) error {
	elf, err := object(pkg)
	if err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(elf))
	if err != nil {
		return err
	}
	if err := spec.Variables["targ_tgid"].Set(pid); err != nil {
		return err
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return err
	}
	defer coll.Close()
	l, err := link.Tracepoint("syscalls", "sys_enter_getpgid", coll.Programs["storm"], nil)
	if err != nil {
		return err
	}
	defer l.Close()
	rd, err := ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { <-sig; rd.Close() }()

	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	fmt.Fprintf(w, "%-16s %-7s %-3s %s\n", "TS", "PID", "CPU", "SEQ")
	w.Flush()
	var rec ringbuf.Record
	line := make([]byte, 0, 128)
	drained := 0
	for {
		if err := rd.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrClosed) {
				break
			}
			return err
		}
		s := rec.RawSample
		line = appendNum(line[:0], binary.LittleEndian.Uint64(s[0:]), 16)
		line = append(line, ' ')
		line = appendNum(line, uint64(binary.LittleEndian.Uint32(s[8:])), 7)
		line = append(line, ' ')
		line = appendNum(line, uint64(binary.LittleEndian.Uint32(s[12:])), 3)
		line = append(line, ' ')
		line = strconv.AppendUint(line, binary.LittleEndian.Uint64(s[16:]), 10)
		line = append(line, '\n')
		w.Write(line)
		drained++
		if rec.Remaining == 0 {
			w.Flush()
			if pause > 0 && drained > 64 {
				time.Sleep(pause)
			}
			drained = 0
		}
	}
	w.Flush()
	var dropped uint64
	if v := spec.Variables["dropped"]; v != nil {
		if err := coll.Variables["dropped"].Get(&dropped); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "lost %d\n", dropped)
	return nil
}

// appendNum appends v left-aligned in width columns.
func appendNum(dst []byte, v uint64, width int) []byte {
	start := len(dst)
	dst = strconv.AppendUint(dst, v, 10)
	for len(dst)-start < width {
		dst = append(dst, ' ')
	}
	return dst
}
