package symbolize

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// mapping is one executable line of /proc/PID/maps.
type mapping struct {
	start, end uint64 // [start, end) in the process
	off        uint64 // file offset of start
	dev, inode uint64
	path       string // "" for anonymous memory, [vdso] and the like as the kernel names them

	// resolved on first use
	resolved bool
	key      fileKey
	open     string // the path the file was opened by
	err      error  // why the file cannot be used
}

// parseMaps reads /proc/PID/maps text and returns its executable mappings sorted by start.
func parseMaps(r io.Reader) ([]*mapping, error) {
	var out []*mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		m, exec, err := parseMapsLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("maps line %d: %w", n, err)
		}
		if exec {
			out = append(out, m)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *mapping) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	return out, nil
}

// parseMapsLine parses "start-end perms offset major:minor inode   path".
func parseMapsLine(line []byte) (*mapping, bool, error) {
	bad := func() (*mapping, bool, error) {
		return nil, false, fmt.Errorf("%q is not \"start-end perms offset dev inode path\"", line)
	}
	f := bytes.Fields(line)
	if len(f) < 5 {
		return bad()
	}
	var m mapping
	var rest []byte
	var ok bool
	if m.start, rest, ok = parseHex(f[0]); !ok || len(rest) < 2 || rest[0] != '-' {
		return bad()
	}
	if m.end, rest, ok = parseHex(rest[1:]); !ok || len(rest) != 0 || m.end < m.start {
		return bad()
	}
	perms := f[1]
	if len(perms) < 4 {
		return bad()
	}
	if m.off, rest, ok = parseHex(f[2]); !ok || len(rest) != 0 {
		return bad()
	}
	major, rest, ok := parseHex(f[3])
	if !ok || len(rest) < 2 || rest[0] != ':' {
		return bad()
	}
	minor, rest, ok := parseHex(rest[1:])
	if !ok || len(rest) != 0 {
		return bad()
	}
	m.dev = major<<32 | minor
	ino, err := strconv.ParseUint(string(f[4]), 10, 64)
	if err != nil {
		return bad()
	}
	m.inode = ino
	// The path is everything after the inode column, spaces included.
	if len(f) > 5 {
		m.path = string(bytes.TrimRight(skipFields(line, 5), " "))
	}
	return &m, perms[2] == 'x', nil
}

// find returns the mapping holding addr, or nil.
func findMapping(maps []*mapping, addr uint64) *mapping {
	i, _ := slices.BinarySearchFunc(maps, addr, func(m *mapping, a uint64) int {
		switch {
		case m.start <= a && a < m.end:
			return 0
		case m.end <= a:
			return -1
		}
		return 1
	})
	if i < len(maps) && maps[i].start <= addr && addr < maps[i].end {
		return maps[i]
	}
	return nil
}

// skipFields returns b after its first n space-separated fields and the spaces that follow.
func skipFields(b []byte, n int) []byte {
	for range n {
		b = bytes.TrimLeft(b, " \t")
		if i := bytes.IndexAny(b, " \t"); i >= 0 {
			b = b[i:]
		} else {
			return nil
		}
	}
	return bytes.TrimLeft(b, " \t")
}
