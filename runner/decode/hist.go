package decode

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// SlotsField is the name of the value field whose counters a [Histogram] draws.
const SlotsField = "slots"

// HistKind says what the slots of a histogram count.
type HistKind uint8

const (
	// Log2 slots count values by power of two: slot i holds [2^i, 2^(i+1) - 1] (slot 0
	// holds 0 and 1), as libbpf-tools' print_log2_hist draws them.
	Log2 HistKind = iota
	// Linear slots count one value each: slot i holds i (print_linear_hist with step 1).
	Linear
)

// HistOptions configure a [Histogram].
type HistOptions struct {
	// Kind is the slot layout.
	Kind HistKind
	// Unit labels the value column, e.g. "usecs".
	Unit string
}

// Histogram renders the entries of a sampled map whose value holds a histogram: an array
// field named "slots" of 4- or 8-byte counters, and possibly other fields. It is built once
// per map from the map's key and value plans.
type Histogram struct {
	key, val *Plan
	slots    int // index of the slots field in val.Fields()
	slot     Int // the first slot
	n        int // number of slots
	opts     HistOptions
}

// NewHistogram builds the histogram of a map with key and value plans. The value type must
// have a "slots" array of 4- or 8-byte integers (ErrUnsupportedType otherwise).
func NewHistogram(key, val *Plan, opts HistOptions) (*Histogram, error) {
	h := &Histogram{key: key, val: val, slots: -1, opts: opts}
	for i, f := range val.Fields() {
		if f.Name == SlotsField {
			h.slots = i
		}
	}
	if h.slots < 0 {
		return nil, fmt.Errorf("histogram of %s: no %s field: %w", val.Name(), SlotsField, ErrUnsupportedType)
	}
	f := val.Fields()[h.slots]
	arr, ok := Underlying(f.Type).(*btf.Array)
	if !ok {
		return nil, fmt.Errorf("histogram of %s: %s is not an array: %w", val.Name(), SlotsField, ErrUnsupportedType)
	}
	elem, err := IntOf(Field{Name: SlotsField, Offset: f.Offset, Size: elemSize(arr), Type: arr.Type})
	if err != nil || (elem.Size != 4 && elem.Size != 8) {
		return nil, fmt.Errorf("histogram of %s: %s elements must be 4 or 8 byte integers: %w", val.Name(), SlotsField, ErrUnsupportedType)
	}
	elem.Signed = false
	h.slot, h.n = elem, int(arr.Nelems)
	return h, nil
}

func elemSize(arr *btf.Array) uint32 {
	sz, err := btf.Sizeof(arr.Type)
	if err != nil || sz <= 0 || sz > 8 {
		return 0
	}
	return uint32(sz)
}

// Slots appends the counters of the map value val to dst.
func (h *Histogram) Slots(dst []uint64, val []byte) ([]uint64, error) {
	if len(val) < int(h.val.Size()) {
		return dst, h.val.short(val)
	}
	at := h.slot
	for range h.n {
		v, err := at.Read(val)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
		at.Offset += at.Size
	}
	return dst, nil
}

// AppendText appends one map entry the way bcc's histogram tools print it: a "key = ..."
// line with the key's fields, a "name = value" line per other value field, the histogram
// of the slots, and an empty line, whose newline (as with every AppendText) the caller adds.
func (h *Histogram) AppendText(dst, key, val []byte) ([]byte, error) {
	slots, err := h.Slots(make([]uint64, 0, h.n), val)
	if err != nil {
		return dst, err
	}
	dst = append(dst, "key ="...)
	for i := range h.key.Fields() {
		dst = append(dst, "  "...)
		if dst, err = h.key.AppendFieldText(dst, key, i); err != nil {
			return dst, err
		}
	}
	dst = append(dst, '\n')
	for i, f := range h.val.Fields() {
		if i == h.slots {
			continue
		}
		dst = append(dst, f.Name...)
		dst = append(dst, " = "...)
		if dst, err = h.val.AppendFieldText(dst, val, i); err != nil {
			return dst, err
		}
		dst = append(dst, '\n')
	}
	if h.opts.Kind == Linear {
		dst = AppendLinearHist(dst, slots, h.opts.Unit)
	} else {
		dst = AppendLog2Hist(dst, slots, h.opts.Unit)
	}
	return dst, nil
}

// AppendLog2Hist draws power-of-two slots like libbpf-tools' print_log2_hist: a header
// naming unit, then one "low -> high : count |stars|" line per slot up to the last non-zero
// one. All-zero slots draw nothing.
func AppendLog2Hist(dst []byte, slots []uint64, unit string) []byte {
	idxMax, valMax := -1, uint64(0)
	for i, v := range slots {
		if v > 0 {
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	if idxMax < 0 {
		return dst
	}
	starsMax, w, pad, uw := 40, 10, 5, 19
	if idxMax > 32 {
		starsMax, w, pad, uw = 20, 20, 15, 29
	}
	dst = fmt.Appendf(dst, "%*s%-*s : count    distribution\n", pad, "", uw, unit)
	for i := 0; i <= idxMax; i++ {
		high := uint64(1)<<(i+1) - 1 // slot 63: 1<<64 wraps to 0, high to MaxUint64
		low := high>>1 + 1
		if i == 0 {
			low = 0
		}
		dst = fmt.Appendf(dst, "%*d -> %-*d : %-8d |", w, low, w, high, slots[i])
		dst = appendStars(dst, slots[i], valMax, starsMax)
		dst = append(dst, "|\n"...)
	}
	return dst
}

// AppendLinearHist draws one-value slots like libbpf-tools' print_linear_hist with step 1,
// from the first to the last non-zero slot. All-zero slots draw nothing.
func AppendLinearHist(dst []byte, slots []uint64, unit string) []byte {
	idxMin, idxMax, valMax := -1, -1, uint64(0)
	for i, v := range slots {
		if v > 0 {
			if idxMin < 0 {
				idxMin = i
			}
			idxMax = i
		}
		valMax = max(valMax, v)
	}
	if idxMax < 0 {
		return dst
	}
	dst = fmt.Appendf(dst, "     %-13s : count     distribution\n", unit)
	for i := idxMin; i <= idxMax; i++ {
		dst = fmt.Appendf(dst, "        %-10d : %-8d |", i, slots[i])
		dst = appendStars(dst, slots[i], valMax, 40)
		dst = append(dst, "|\n"...)
	}
	return dst
}

// appendStars appends a bar of width columns, val/max of them stars; a value above max
// ends in '+'.
func appendStars(dst []byte, val, max uint64, width int) []byte {
	n := 0
	if max > 0 {
		n = int(min(val, max) * uint64(width) / max)
	}
	start := len(dst)
	for i := range width {
		if i < n {
			dst = append(dst, '*')
		} else {
			dst = append(dst, ' ')
		}
	}
	if max > 0 && val > max {
		dst[start+width-1] = '+'
	}
	return dst
}
