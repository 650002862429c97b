package runner

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/btf"

	"ecli/runner/decode"
)

// lostCounter is a global the program increments when it drops an event (a full ring
// buffer, a failed reserve). It is marked with the decl tag "ecli:lost" and must be an
// unsigned integer in .bss or .data; the runner reports its growth on the diagnostic
// channel, so drops are never silent.
type lostCounter struct {
	name    string
	section string
	at      decode.Int // where the counter lies in the section's value
	last    uint64
}

func (p *Package) lostCounters() []*lostCounter {
	var out []*lostCounter
	for name, vs := range p.spec.Variables {
		if vs.Type == nil || !slices.Contains(vs.Type.Tags, "ecli:lost") {
			continue
		}
		i, ok := decode.Underlying(vs.Type.Type).(*btf.Int)
		if !ok || (i.Size != 4 && i.Size != 8) {
			continue
		}
		out = append(out, &lostCounter{name: name, section: vs.SectionName, at: decode.Int{Offset: vs.Offset, Size: i.Size}})
	}
	slices.SortFunc(out, func(a, b *lostCounter) int { return int(a.at.Offset) - int(b.at.Offset) })
	return out
}

// lostTally counts a run's lost events: total is every loss reported so far; perf is what
// perf buffers reported as lost records, of which perfSeen were reported.
type lostTally struct {
	total    atomic.Uint64
	perf     atomic.Uint64
	perfSeen uint64
	observer Observer // told about every loss (metrics); may be nil
}

// add counts n lost events.
func (l *lostTally) add(n uint64) {
	l.total.Add(n)
	if l.observer != nil {
		l.observer.Lost(n)
	}
}

// checkPerf reports the perf buffers' losses since the last check.
func (l *lostTally) checkPerf(diag func(string)) {
	if n := l.perf.Load(); n > l.perfSeen {
		l.add(n - l.perfSeen)
		diag(fmt.Sprintf("lost %d events (a perf buffer was full)", n-l.perfSeen))
		l.perfSeen = n
	}
}

// checkLost reads every lost counter and reports the ones that grew.
func (i *Instance) checkLost(counters []*lostCounter, lost *lostTally, diag func(string)) {
	lost.checkPerf(diag)
	for _, c := range counters {
		m := i.coll.Maps[c.section]
		if m == nil {
			continue
		}
		buf := make([]byte, m.ValueSize())
		if err := m.Lookup(uint32(0), &buf); err != nil {
			continue
		}
		v, err := c.at.Read(buf)
		if err != nil {
			continue
		}
		if v > c.last {
			lost.add(v - c.last)
			diag(fmt.Sprintf("lost %d events (the program counted them in %s)", v-c.last, c.name))
			c.last = v
		}
	}
}

// watchLost reports lost events (the lost counters, perf buffers' lost records) every
// interval until done is closed, then once more.
func (i *Instance) watchLost(done <-chan struct{}, interval time.Duration, lost *lostTally, diag func(string)) {
	counters := i.pkg.lostCounters()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			i.checkLost(counters, lost, diag)
			return
		case <-t.C:
			i.checkLost(counters, lost, diag)
		}
	}
}
