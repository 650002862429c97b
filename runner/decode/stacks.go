package decode

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Stack ids that are not stacks: bpf_get_stackid returns a negative errno. -EFAULT means the
// task has no such stack (a kernel thread's user stack, or a stack the program chose not to
// take); any other error is a stack that was lost (the map is full, a hash collision).
const (
	stackEFAULT = -14
	stackENOMEM = -12
	stackEEXIST = -17
)

// StackLookup reads stack-trace maps for [StackCounts]; the runner implements it over the
// loaded maps, tests with a map.
type StackLookup interface {
	// Stack returns the addresses stored under id in the stack-trace map m, innermost first,
	// without the zeros that pad a short stack; ok is false when the id is not in the map.
	Stack(m string, id uint32) (addrs []uint64, ok bool)
}

// StackCountsOptions configure a [StackCounts].
type StackCountsOptions struct {
	// Flag reports the value of a bool global, for stack_*=GLOBAL layout hints; nil means all
	// false. It is called by NewStackCounts only.
	Flag func(name string) bool
	// Symbolizer names the addresses; nil prints every frame as unknown.
	Symbolizer Symbolizer
}

// StackCounts renders the entries of a map counted by stack (bcc's profile, offcputime,
// ...): a key with stack-id fields (hint stack=MAP,kernel / stack=MAP,user,PIDFIELD) and
// optionally the task's name and id (task=comm, task=pid), and a value whose first field is
// the count. Text is bcc's multi-line block (frames innermost first, kernel then user, then
// "    -                comm (pid)" and the count), or with stack_folded one folded line
// "comm;outermost;...;innermost count" for flame graphs.
type StackCounts struct {
	key, value   *Plan
	kernel, user *stackField
	comm         *Field
	pid          *Int
	count        Int
	layout       stackLayout
	sym          Symbolizer
}

// stackField is one stack-id field of the key.
type stackField struct {
	name   string // the field's name (JSON key)
	m      string // the stack-trace map
	id     Int
	kernel bool
	pid    Int // user stacks: the process the addresses belong to
}

// stackHint is a parsed stack= member hint.
type stackHint struct {
	m      string
	kernel bool
	pid    string
}

func parseStackHint(v string) (stackHint, error) {
	parts := strings.Split(v, ",")
	bad := errors.New("want MAP,kernel or MAP,user,PIDFIELD")
	if len(parts) < 2 || !isIdent(parts[0]) {
		return stackHint{}, bad
	}
	h := stackHint{m: parts[0]}
	switch {
	case parts[1] == "kernel" && len(parts) == 2:
		h.kernel = true
	case parts[1] == "user" && len(parts) == 3 && isIdent(parts[2]):
		h.pid = parts[2]
	default:
		return stackHint{}, bad
	}
	return h, nil
}

// stackLayout is what the stack_* struct hints of the key chose.
type stackLayout struct {
	folded   bool // one folded line per entry
	delim    bool // "--" (folded: "-") between the kernel and the user frames
	annotate bool // folded kernel frames end in "_[k]"
	offset   bool // "+0xOFF" after a symbol (not in folded lines)
	module   bool // " [module]" after a frame (not in folded lines)
	addr     bool // the address before each frame (not in folded lines)
}

// stackLayoutHints are the struct hints of a stack-count key; each takes on, off or the
// name of a bool global.
var stackLayoutHints = map[string]func(l *stackLayout) *bool{
	"stack_folded":   func(l *stackLayout) *bool { return &l.folded },
	"stack_delim":    func(l *stackLayout) *bool { return &l.delim },
	"stack_annotate": func(l *stackLayout) *bool { return &l.annotate },
	"stack_offset":   func(l *stackLayout) *bool { return &l.offset },
	"stack_module":   func(l *stackLayout) *bool { return &l.module },
	"stack_addr":     func(l *stackLayout) *bool { return &l.addr },
}

func stackLayoutKeys() []string {
	keys := make([]string, 0, len(stackLayoutHints))
	for k := range stackLayoutHints {
		keys = append(keys, k+"=")
	}
	slices.Sort(keys)
	return keys
}

// HasStacks reports whether a plan has a field with a stack= hint: a sampled map with such
// a key renders through [StackCounts].
func HasStacks(p *Plan) bool {
	for _, f := range p.Fields() {
		if hintValue(f, "stack") != "" {
			return true
		}
	}
	return false
}

// hintValue returns the value of the hint key of f, "" when f has none.
func hintValue(f Field, key string) string {
	for _, h := range f.Hints {
		if k, v, _ := strings.Cut(h, "="); k == key {
			return v
		}
	}
	return ""
}

// NewStackCounts builds the rendering of the entries of a map with key plan key and value
// plan value. The key must have at most one kernel and one user stack-id field (4- or
// 8-byte integers); a user stack names an integer field holding its process id; task=comm
// must be on a char array and task=pid on an integer; the value's first field is the count.
func NewStackCounts(key, value *Plan, opts StackCountsOptions) (*StackCounts, error) {
	what := "stack counts of " + key.Name()
	s := &StackCounts{key: key, value: value, sym: opts.Symbolizer}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s: %w", what, fmt.Sprintf(format, args...), ErrBadHint)
	}
	byName := func(name string) (Field, bool) {
		for _, f := range key.Fields() {
			if f.Name == name {
				return f, true
			}
		}
		return Field{}, false
	}
	for _, f := range key.Fields() {
		if v := hintValue(f, "stack"); v != "" {
			h, err := parseStackHint(v)
			if err != nil {
				return nil, bad("field %s: %v", f.Name, err)
			}
			id, err := IntOf(f)
			if err != nil || id.Size < 4 {
				return nil, bad("stack id field %s is not a 4- or 8-byte integer", f.Name)
			}
			id.Signed = true // bpf_get_stackid returns a negative errno
			sf := &stackField{name: f.Name, m: h.m, id: id, kernel: h.kernel}
			at := &s.kernel
			if !h.kernel {
				at = &s.user
				pf, ok := byName(h.pid)
				if !ok {
					return nil, bad("field %s: no pid field %s", f.Name, h.pid)
				}
				if sf.pid, err = IntOf(pf); err != nil {
					return nil, bad("field %s: pid field %s is not an integer", f.Name, h.pid)
				}
			}
			if *at != nil {
				return nil, bad("fields %s and %s are both %s stacks", (*at).name, f.Name, map[bool]string{true: "kernel", false: "user"}[h.kernel])
			}
			*at = sf
		}
		switch hintValue(f, "task") {
		case "comm":
			if _, ok := Underlying(f.Type).(*btf.Array); !ok {
				return nil, bad("task=comm field %s is not a char array", f.Name)
			}
			s.comm = &f
		case "pid":
			id, err := IntOf(f)
			if err != nil {
				return nil, bad("task=pid field %s is not an integer", f.Name)
			}
			s.pid = &id
		}
	}
	if s.kernel == nil && s.user == nil {
		return nil, bad("the key has no stack= field")
	}
	if len(value.Fields()) == 0 {
		return nil, bad("the value has no fields")
	}
	var err error
	if s.count, err = IntOf(value.Fields()[0]); err != nil {
		return nil, bad("the value's first field is not an integer count")
	}
	for _, tag := range key.tags {
		k, v, _ := strings.Cut(strings.TrimPrefix(tag, hintPrefix), "=")
		at, ok := stackLayoutHints[k]
		if !ok || !strings.HasPrefix(tag, hintPrefix) {
			continue
		}
		switch {
		case v == "on":
			*at(&s.layout) = true
		case v == "off":
		case isIdent(v):
			*at(&s.layout) = opts.Flag != nil && opts.Flag(v)
		default:
			return nil, bad("hint %q: want on, off or the name of a bool global", tag)
		}
	}
	return s, nil
}

// Maps returns the names of the stack-trace maps the entries refer to.
func (s *StackCounts) Maps() []string {
	var out []string
	for _, f := range []*stackField{s.kernel, s.user} {
		if f != nil && !slices.Contains(out, f.m) {
			out = append(out, f.m)
		}
	}
	return out
}

// Folded reports whether entries render as folded lines (no blank line between entries).
func (s *StackCounts) Folded() bool { return s.layout.folded }

// Process returns the process whose address space the entry's user stack is in.
func (s *StackCounts) Process(key []byte) (uint32, bool) {
	if s.user == nil {
		return 0, false
	}
	v, err := s.user.pid.Read(key)
	return uint32(v), err == nil
}

// Missed counts the entry's stacks that were lost (a stack id that is an error other than
// "no such stack"), and reports whether one was lost because the stack map was full or
// its hash collided (more room would have kept it).
func (s *StackCounts) Missed(key []byte) (n int, full bool) {
	for _, f := range []*stackField{s.kernel, s.user} {
		if f == nil {
			continue
		}
		id, err := f.id.Read(key)
		if err != nil {
			continue
		}
		if v := int64(id); v < 0 && v != stackEFAULT {
			n++
			full = full || v == stackENOMEM || v == stackEEXIST
		}
	}
	return n, full
}

// stack is one stack of an entry, read.
type stack struct {
	f      *stackField
	id     int64
	addrs  []uint64
	missed bool // an error id, or an id not in the map
}

func (s *StackCounts) read(f *stackField, key []byte, st StackLookup) (stack, error) {
	if f == nil {
		return stack{}, nil
	}
	v, err := f.id.Read(key)
	if err != nil {
		return stack{}, err
	}
	k := stack{f: f, id: int64(v)}
	switch {
	case k.id >= 0 && k.id <= 0xffffffff:
		var ok bool
		if k.addrs, ok = st.Stack(f.m, uint32(k.id)); !ok {
			k.missed = true
		}
	case k.id != stackEFAULT:
		k.missed = true
	}
	return k, nil
}

// entry reads the stacks, the process and the count of one entry.
func (s *StackCounts) entry(key, val []byte, st StackLookup) (ks, us stack, pid uint32, count uint64, err error) {
	if len(key) < int(s.key.Size()) {
		return ks, us, 0, 0, s.key.short(key)
	}
	if ks, err = s.read(s.kernel, key, st); err != nil {
		return
	}
	if us, err = s.read(s.user, key, st); err != nil {
		return
	}
	if s.user != nil {
		var v uint64
		if v, err = s.user.pid.Read(key); err != nil {
			return
		}
		pid = uint32(v)
	}
	count, err = s.count.Read(val)
	return
}

func (s *StackCounts) symbolize(addr uint64, pid uint32, kernel bool) Frame {
	if s.sym == nil {
		return Frame{}
	}
	return s.sym.Symbolize(addr, pid, kernel)
}

// AppendText appends the text of one entry without its final newline: a block of lines
// ending in the count and an empty line (bcc's), or one folded line.
func (s *StackCounts) AppendText(dst, key, val []byte, st StackLookup) ([]byte, error) {
	ks, us, pid, count, err := s.entry(key, val, st)
	if err != nil {
		return dst, err
	}
	both := ks.f != nil && us.f != nil && ks.id >= 0 && us.id >= 0
	if s.layout.folded {
		return s.appendFolded(dst, key, ks, us, pid, count, both), nil
	}
	if ks.f != nil {
		dst = s.appendFrames(dst, ks, pid, "    [Missed Kernel Stack]\n")
	}
	if us.f != nil {
		if s.layout.delim && both {
			dst = append(dst, "    --\n"...)
		}
		dst = s.appendFrames(dst, us, pid, "    [Missed User Stack]\n")
	}
	// bcc: print("    %-16s %s (%d)" % ("-", comm, pid)); print("        %d\n" % count)
	dst = append(dst, "    -                "...)
	if s.comm != nil {
		dst = appendTextString(dst, cstr(key[s.comm.Offset:s.comm.Offset+s.comm.Size]))
	}
	if s.pid != nil {
		v, err := s.pid.Read(key)
		if err != nil {
			return dst, err
		}
		dst = append(dst, " ("...)
		dst = strconv.AppendInt(dst, int64(v), 10)
		dst = append(dst, ')')
	}
	dst = append(dst, "\n        "...)
	dst = strconv.AppendUint(dst, count, 10)
	return append(dst, '\n'), nil // bcc's print("        %d\n"): blocks are parted by an empty line
}

// appendFrames appends one line per frame of k (or the missed line).
func (s *StackCounts) appendFrames(dst []byte, k stack, pid uint32, missed string) []byte {
	if k.missed {
		return append(dst, missed...)
	}
	for _, a := range k.addrs {
		dst = append(dst, "    "...)
		if s.layout.addr {
			if k.f.kernel {
				dst = fmt.Appendf(dst, "0x%-16x ", a) // bcc: "0x%-16x %s" for kernel frames
			} else {
				dst = fmt.Appendf(dst, "0x%016x ", a)
			}
		}
		dst = s.appendSymbol(dst, s.symbolize(a, pid, k.f.kernel), k.f.kernel)
		dst = append(dst, '\n')
	}
	return dst
}

// appendSymbol appends bcc's sym(addr, pid, show_module, show_offset): the name or
// "[unknown]", "+0xOFF" when the name is known, " [module]" ("kernel" for vmlinux).
func (s *StackCounts) appendSymbol(dst []byte, f Frame, kernel bool) []byte {
	if f.Name == "" {
		dst = append(dst, "[unknown]"...)
	} else {
		dst = append(dst, f.Name...)
		if s.layout.offset {
			dst = append(dst, "+0x"...)
			dst = strconv.AppendUint(dst, f.Offset, 16)
		}
	}
	if s.layout.module {
		mod := f.Module
		if kernel && mod == "" && f.Name != "" {
			mod = "kernel"
		}
		if mod != "" {
			dst = append(dst, " ["...)
			dst = append(dst, strings.Trim(mod, "[]")...)
			dst = append(dst, ']')
		}
	}
	return dst
}

// appendFolded appends "comm;user outermost..innermost;-;kernel outermost..innermost count".
func (s *StackCounts) appendFolded(dst, key []byte, ks, us stack, pid uint32, count uint64, both bool) []byte {
	first := true
	part := func(text string) {
		if !first {
			dst = append(dst, ';')
		}
		first = false
		dst = append(dst, text...)
	}
	if s.comm != nil {
		part(string(cstr(key[s.comm.Offset : s.comm.Offset+s.comm.Size])))
	}
	frames := func(k stack, missed, suffix string) {
		if k.missed {
			part(missed)
			return
		}
		for i := len(k.addrs) - 1; i >= 0; i-- {
			name := s.symbolize(k.addrs[i], pid, k.f.kernel).Name
			if name == "" {
				name = "[unknown]"
			}
			part(name + suffix)
		}
	}
	if us.f != nil {
		frames(us, "[Missed User Stack]", "")
	}
	if ks.f != nil {
		if s.layout.delim && both {
			part("-")
		}
		suffix := ""
		if s.layout.annotate {
			suffix = "_[k]"
		}
		frames(ks, "[Missed Kernel Stack]", suffix)
	}
	dst = append(dst, ' ')
	return strconv.AppendUint(dst, count, 10)
}

// AppendJSON appends one entry as {"key":…,"value":…,"stacks":{FIELD:[frames]}}: each frame
// {"address":N,"symbol":"name","offset":N,"module":"m","file":"f","line":N} (unknown parts
// left out), a lost stack null, no stack [].
func (s *StackCounts) AppendJSON(dst, key, val []byte, st StackLookup) ([]byte, error) {
	ks, us, pid, _, err := s.entry(key, val, st)
	if err != nil {
		return dst, err
	}
	dst, err = KV{Key: s.key, Value: s.value}.AppendJSON(dst, key, val)
	if err != nil {
		return dst, err
	}
	dst = append(dst[:len(dst)-1], `,"stacks":{`...)
	n := 0
	for _, k := range []stack{ks, us} {
		if k.f == nil {
			continue
		}
		if n++; n > 1 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, []byte(k.f.name))
		dst = append(dst, ':')
		if k.missed {
			dst = append(dst, "null"...)
			continue
		}
		dst = append(dst, '[')
		for i, a := range k.addrs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONFrame(dst, a, s.symbolize(a, pid, k.f.kernel))
		}
		dst = append(dst, ']')
	}
	return append(dst, "}}"...), nil
}

func appendJSONFrame(dst []byte, addr uint64, f Frame) []byte {
	dst = append(dst, `{"address":`...)
	dst = strconv.AppendUint(dst, addr, 10)
	if f.Name != "" {
		dst = append(dst, `,"symbol":`...)
		dst = appendJSONString(dst, []byte(f.Name))
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendUint(dst, f.Offset, 10)
	}
	if f.Module != "" {
		dst = append(dst, `,"module":`...)
		dst = appendJSONString(dst, []byte(f.Module))
	}
	if f.File != "" && f.Line > 0 {
		dst = append(dst, `,"file":`...)
		dst = appendJSONString(dst, []byte(f.File))
		dst = append(dst, `,"line":`...)
		dst = strconv.AppendInt(dst, int64(f.Line), 10)
	}
	return append(dst, '}')
}
