package oci

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TerminalProgress returns f when it is a terminal, else nil: pass it as Options.Progress
// to draw a progress bar on an interactive stderr and stay silent in pipes and logs.
func TerminalProgress(f *os.File) io.Writer {
	if f == nil {
		return nil
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return nil
	}
	return f
}

// progress counts bytes through a reader and redraws one line on w.
type progress struct {
	r     io.Reader
	w     io.Writer
	label string
	total int64
	done  int64
	last  time.Time
	ended bool
}

// withProgress wraps r; with a nil w it returns r itself.
func withProgress(w io.Writer, r io.Reader, label string, total int64) io.Reader {
	if w == nil {
		return r
	}
	return &progress{r: r, w: w, label: label, total: total}
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	end := err != nil || p.done >= p.total
	if p.ended {
		return n, err
	}
	if end || time.Since(p.last) > 100*time.Millisecond {
		p.ended = end
		p.draw(end)
		p.last = time.Now()
	}
	return n, err
}

func (p *progress) draw(end bool) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	fmt.Fprintf(p.w, "\r%s [%s] %3.0f%% %s/%s", p.label, bar, frac*100, humanBytes(p.done), humanBytes(p.total))
	if end {
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
