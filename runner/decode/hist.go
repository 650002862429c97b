package decode

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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
	// Now is the clock of the JSON lines' "ts" (nil: time.Now).
	Now func() time.Time
}

// Value-field roles of a bcc-layout histogram, from the member hint hist=ROLE: the sum and
// the number of the values counted, printed as bcc's extended summary line.
const (
	histTotal = "total"
	histCount = "count"
)

// Histogram renders the entries of a sampled map whose value holds a histogram: an array
// field named "slots" of 4- or 8-byte counters, and possibly other fields. It is built once
// per map from the map's key and value plans.
//
// A histogram whose key or value type carries ecli hints is drawn in bcc's layout (bcc's
// python print_log2_hist, see [Histogram.BCC]); otherwise in eunomia's (libbpf-tools').
type Histogram struct {
	key, val *Plan
	slots    int // index of the slots field in val.Fields()
	slot     Int // the first slot
	n        int // number of slots
	opts     HistOptions
	bcc      bool
	// bcc layout: the visible key fields are the section headers (label = value), the
	// other visible value fields "label = value" lines, total and count (indexes into
	// val.Fields(), -1 when absent) the extended summary line.
	sections     []int
	others       []int
	total, count int
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
	h.bcc = key.Hinted() || val.Hinted()
	h.total, h.count = -1, -1
	for i, f := range key.Fields() {
		if !f.Hidden {
			h.sections = append(h.sections, i)
		}
	}
	for i, f := range val.Fields() {
		if i == h.slots || f.Hidden {
			continue
		}
		switch role := histRole(f); role {
		case histTotal, histCount:
			if _, err := IntOf(f); err != nil {
				return nil, fmt.Errorf("histogram of %s: field %s: hist=%s needs an integer: %w", val.Name(), f.Name, role, ErrBadHint)
			}
			if role == histTotal {
				h.total = i
			} else {
				h.count = i
			}
		default:
			h.others = append(h.others, i)
		}
	}
	if (h.total < 0) != (h.count < 0) {
		return nil, fmt.Errorf("histogram of %s: hist=total and hist=count go together: %w", val.Name(), ErrBadHint)
	}
	return h, nil
}

// histRole is the value of a field's hist= hint, "" without one.
func histRole(f Field) string {
	for _, h := range f.Hints {
		if v, ok := strings.CutPrefix(h, "hist="); ok {
			return v
		}
	}
	return ""
}

// BCC reports whether the histogram is drawn in bcc's layout: its key or value type
// carries ecli hints.
func (h *Histogram) BCC() bool { return h.bcc }

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

// AppendText appends one map entry. In eunomia's layout: a "key = ..." line with the key's
// fields, a "name = value" line per other value field, the histogram of the slots, and an
// empty line, whose newline (as with every AppendText) the caller adds. In bcc's layout
// (see [Histogram.AppendBCC]) the text ends with the last line's newline left to the caller.
func (h *Histogram) AppendText(dst, key, val []byte) ([]byte, error) {
	slots, err := h.Slots(make([]uint64, 0, h.n), val)
	if err != nil {
		return dst, err
	}
	if len(key) < int(h.key.Size()) {
		return dst, h.key.short(key)
	}
	if h.bcc {
		return h.appendBCC(dst, key, val, slots)
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

// appendBCC draws one entry as bcc's python tools do: per visible key field an empty line
// and "label = value" (print_log2_hist's section header), a "label = value" line per other
// visible value field, the bars (print_log2_hist / print_linear_hist), and with hist=total
// and hist=count fields (when count is not 0) an empty line, "avg = A UNIT, total: T UNIT,
// count: C" and an empty line. The final newline is left to the caller.
func (h *Histogram) appendBCC(dst, key, val []byte, slots []uint64) ([]byte, error) {
	var err error
	start := len(dst)
	for _, i := range h.sections {
		dst = append(dst, '\n')
		if dst, err = h.appendLabeled(dst, h.key, key, i); err != nil {
			return dst, err
		}
	}
	for _, i := range h.others {
		if dst, err = h.appendLabeled(dst, h.val, val, i); err != nil {
			return dst, err
		}
	}
	if h.opts.Kind == Linear {
		dst = AppendBCCLinearHist(dst, slots, h.opts.Unit)
	} else {
		dst = AppendBCCLog2Hist(dst, slots, h.opts.Unit)
	}
	if h.count >= 0 {
		total, _ := IntOf(h.val.Fields()[h.total])
		count, _ := IntOf(h.val.Fields()[h.count])
		t, _ := total.Read(val)
		c, _ := count.Read(val)
		if c > 0 {
			dst = fmt.Appendf(dst, "\navg = %d %s, total: %d %s, count: %d\n\n", t/c, h.opts.Unit, t, h.opts.Unit, c)
		}
	}
	if len(dst) > start && dst[len(dst)-1] == '\n' {
		dst = dst[:len(dst)-1] // the caller ends the last line
	}
	return dst, nil
}

// appendLabeled appends "label = value\n" for field i of p: the label is the field's
// column name (its name= hint as written, else the upper-cased member name).
func (h *Histogram) appendLabeled(dst []byte, p *Plan, sample []byte, i int) ([]byte, error) {
	dst = append(dst, p.Fields()[i].Column...)
	dst = append(dst, " = "...)
	dst, err := p.AppendFieldText(dst, sample, i)
	return append(dst, '\n'), err
}

// AppendJSON appends one map entry as a JSON object. In eunomia's layout it is the
// {"key":…,"value":…} line of default_kv; in bcc's layout bcc's histogram dictionary
// (biolatency -j): {"ts":"YYYY-MM-DD HH:MM:SS","val_type":UNIT,"data":[{"interval-start":
// LOW,"interval-end":HIGH,"count":N},…]} with one bucket per slot up to the last non-zero
// one, then "label":value for each visible key field (the section), and "total"/"count"
// when the value has hist=total and hist=count fields.
func (h *Histogram) AppendJSON(dst, key, val []byte) ([]byte, error) {
	if !h.bcc {
		return KV{Key: h.key, Value: h.val}.AppendJSON(dst, key, val)
	}
	slots, err := h.Slots(make([]uint64, 0, h.n), val)
	if err != nil {
		return dst, err
	}
	if len(key) < int(h.key.Size()) {
		return dst, h.key.short(key)
	}
	now := time.Now
	if h.opts.Now != nil {
		now = h.opts.Now
	}
	dst = append(dst, `{"ts":"`...)
	dst = now().AppendFormat(dst, "2006-01-02 15:04:05")
	dst = append(dst, `","val_type":`...)
	dst = appendJSONString(dst, []byte(h.opts.Unit))
	dst = append(dst, `,"data":[`...)
	last := -1
	for i, v := range slots {
		if v > 0 {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		low, high := uint64(i), uint64(i)
		if h.opts.Kind != Linear {
			low, high = log2Bounds(i)
		}
		dst = append(dst, `{"interval-start":`...)
		dst = strconv.AppendUint(dst, low, 10)
		dst = append(dst, `,"interval-end":`...)
		dst = strconv.AppendUint(dst, high, 10)
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendUint(dst, slots[i], 10)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	for _, i := range h.sections {
		dst = append(dst, ',')
		dst = appendJSONString(dst, []byte(h.key.Fields()[i].Column))
		dst = append(dst, ':')
		if dst, err = h.key.AppendFieldJSON(dst, key, i); err != nil {
			return dst, err
		}
	}
	for _, i := range append(h.others, h.total, h.count) {
		if i < 0 {
			continue
		}
		dst = append(dst, ',')
		name := h.val.Fields()[i].Name
		if r := histRole(h.val.Fields()[i]); r != "" {
			name = r
		}
		dst = appendJSONString(dst, []byte(name))
		dst = append(dst, ':')
		if dst, err = h.val.AppendFieldJSON(dst, val, i); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// log2Bounds are the lowest and highest value counted by power-of-two slot i.
func log2Bounds(i int) (low, high uint64) {
	high = uint64(1)<<(i+1) - 1 // slot 63: 1<<64 wraps to 0, high to MaxUint64
	low = high>>1 + 1
	if i == 0 {
		low = 0
	}
	return low, high
}

// AppendBCCLog2Hist draws power-of-two slots like bcc's python print_log2_hist (table.py):
// "     UNIT(19 wide) : count     distribution", then "%10d -> %-10d : %-8d |stars|" per
// slot up to the last non-zero one, 40 stars wide; past slot 31 (bcc's index 32) the
// columns are 20 wide and the bars 20. Slot i counts [2^i, 2^(i+1)-1], slot 0 [0, 1], so
// the rows are bcc's (whose index i counts values of bit length i). All-zero slots draw
// nothing.
func AppendBCCLog2Hist(dst []byte, slots []uint64, unit string) []byte {
	return appendLog2(dst, slots, unit, true)
}

// AppendBCCLinearHist draws one-value slots like bcc's python print_linear_hist: the
// header "     UNIT(13 wide) : count     distribution", then "        %-10d : %-8d |stars|"
// from slot 0 to the last non-zero one. All-zero slots draw nothing.
func AppendBCCLinearHist(dst []byte, slots []uint64, unit string) []byte {
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
	dst = fmt.Appendf(dst, "     %-13s : count     distribution\n", unit)
	for i := 0; i <= idxMax; i++ {
		dst = fmt.Appendf(dst, "        %-10d : %-8d |", i, slots[i])
		dst = appendStars(dst, slots[i], valMax, 40)
		dst = append(dst, "|\n"...)
	}
	return dst
}

// AppendLog2Hist draws power-of-two slots like libbpf-tools' print_log2_hist: a header
// naming unit, then one "low -> high : count |stars|" line per slot up to the last non-zero
// one. All-zero slots draw nothing.
func AppendLog2Hist(dst []byte, slots []uint64, unit string) []byte {
	return appendLog2(dst, slots, unit, false)
}

// appendLog2 draws power-of-two slots in libbpf-tools' layout, or in bcc python's (one
// more space before "distribution", wide columns one slot earlier).
func appendLog2(dst []byte, slots []uint64, unit string, bcc bool) []byte {
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
	starsMax, w, pad, uw, wide, gap := 40, 10, 5, 19, 32, "    "
	if bcc {
		wide, gap = 31, "     "
	}
	if idxMax > wide {
		starsMax, w, pad, uw = 20, 20, 15, 29
	}
	dst = fmt.Appendf(dst, "%*s%-*s : count%sdistribution\n", pad, "", uw, unit, gap)
	for i := 0; i <= idxMax; i++ {
		low, high := log2Bounds(i)
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
