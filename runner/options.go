package runner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/tidwall/gjson"

	"ecli/runner/decode"
)

// OptionKind is the value kind of an Option.
type OptionKind int

// Option kinds.
const (
	KindBool OptionKind = iota
	KindInt
	KindUint
	KindFloat
	KindString
)

// BoolMode says how a bool option is spelled on the command line (eunomia's rules).
type BoolMode int

// Bool modes.
const (
	// BoolSwitch: --LONG (and -S) sets true. Used when there is no default.
	BoolSwitch BoolMode = iota
	// BoolEnable: --enable-LONG sets true; the default is false.
	BoolEnable
	// BoolDisable: --disable-LONG sets false; the default is true.
	BoolDisable
)

// Option is a tool option generated from one const volatile (or .bss/.data) global.
type Option struct {
	// Name is the variable's name in the BPF program.
	Name string
	// Section is the data section holding it (".rodata", ".bss", ...).
	Section string
	// Long and Short are the flag names (Long without dashes; Short may be empty).
	Long, Short string
	// Help is the one-line help text.
	Help string
	// Kind, Size (bytes) and Type describe the value.
	Kind OptionKind
	Size int
	Type string
	// Default is the default as text ("" when none; the object's initial value is kept).
	Default string
	// BoolMode applies to KindBool.
	BoolMode BoolMode
	// Positional is the option's place among the tool's positional arguments (1-based;
	// 0: not positional). Positionals lists them in order.
	Positional int
	// Role is what the runner itself does with the value: RoleDuration, RoleInterval,
	// RoleCount, or "" (only the BPF program reads it).
	Role string
	// Scale multiplies the user's value before it is stored (0 means 1).
	Scale float64
	// Metavar names the value in help.
	Metavar string
	// Unsupported is why the package cannot honour this option ("" when it can). Help
	// mentions it; Values.Set refuses the option with ErrUnsupportedOption.
	Unsupported string
	// PinnedMap names the map that the pinned map at the option's value (a bpffs path)
	// replaces at Load ("" for ordinary options).
	PinnedMap string
	// MaxEntries names the map whose max_entries the option's value sets at Load ("" for
	// ordinary options).
	MaxEntries string
	// Conflicts is the variable name of an option that may not be given together with
	// this one ("" for none); Values.Set refuses the second of the two with a
	// *ConflictError.
	Conflicts string

	btfType btf.Type
}

// FlagName is the spelling of the option's long flag, honouring BoolMode.
func (o *Option) FlagName() string {
	if o.Kind == KindBool {
		switch o.BoolMode {
		case BoolEnable:
			return "enable-" + o.Long
		case BoolDisable:
			return "disable-" + o.Long
		}
	}
	return o.Long
}

// Option roles (cmdarg "role"): values the runner acts on, besides storing them in the global.
const (
	// RoleDuration: seconds after which Run ends as if cancelled (0: no limit).
	RoleDuration = "duration"
	// RoleInterval: seconds between samples of every sampled map, instead of the
	// package's interval; an at-exit map is then printed every interval too (0: the
	// package's own interval).
	RoleInterval = "interval"
	// RoleCount: how many sampling rounds Run prints before it ends (0: no limit).
	RoleCount = "count"
	// RoleRows: how many entries each round of a sampled map prints at most, after its
	// sort (bcc's -r MAXROWS; 0: all).
	RoleRows = "rows"
	// RolePerfFreq: the sampling frequency (Hz) of the package's perf_event programs,
	// instead of AttachOptions.PerfFreq (0: that one).
	RolePerfFreq = "perf_freq"
	// RolePerfPeriod: sample every N events (period mode) instead of at a frequency; when
	// non-zero it wins over RolePerfFreq (bcc profile's -c).
	RolePerfPeriod = "perf_period"
)

var optionRoles = []string{RoleDuration, RoleInterval, RoleCount, RoleRows, RolePerfFreq, RolePerfPeriod}

// Positionals returns the positional options in the order they are given.
func (p *Package) Positionals() []*Option {
	var out []*Option
	for _, o := range p.opts {
		if o.Positional > 0 {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b *Option) int { return a.Positional - b.Positional })
	return out
}

// Options returns the tool's options, in package order.
func (p *Package) Options() []*Option { return p.opts }

// Option returns the option for a variable name, or nil.
func (p *Package) Option(name string) *Option {
	for _, o := range p.opts {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// OptionByFlag returns the option whose long flag (as spelled on the command line) is
// name, or nil.
func (p *Package) OptionByFlag(name string) *Option {
	for _, o := range p.opts {
		if o.FlagName() == name {
			return o
		}
	}
	return nil
}

// Values are a user's choices for the options of one package; the Package they came from
// stays untouched, so one package can be loaded many times, concurrently, with different
// Values. A Values must not be changed while a Load using it runs.
type Values struct {
	pkg *Package
	raw map[string]string // option (variable) name -> value as given, validated
}

// NewValues returns an empty set of choices for p's options: every option has its default.
func (p *Package) NewValues() *Values { return &Values{pkg: p, raw: map[string]string{}} }

// Set parses value for the option of variable name and records it. For bool options in
// BoolDisable mode, "true" means the flag was given (value false). A bad value is a
// *ValueError; an option the package cannot honour is an *UnsupportedOptionError.
func (v *Values) Set(name, value string) error {
	o := v.pkg.Option(name)
	if o == nil {
		return fmt.Errorf("%w: no option %q", ErrBadOption, name)
	}
	if o.Unsupported != "" {
		return &UnsupportedOptionError{Flag: o.FlagName(), Reason: o.Unsupported}
	}
	if _, err := o.encode(value); err != nil {
		return &ValueError{Flag: o.FlagName(), Err: err}
	}
	if err := v.conflict(o, value); err != nil {
		return err
	}
	v.raw[name] = value
	return nil
}

// conflict returns a *ConflictError when o, given value, and an option already set
// exclude each other (cmdarg "conflicts", either way round). A bool given as false
// counts as not given.
func (v *Values) conflict(o *Option, value string) error {
	if !given(o, value) {
		return nil
	}
	for _, other := range v.pkg.opts {
		if other == o || (o.Conflicts != other.Name && other.Conflicts != o.Name) {
			continue
		}
		if s, ok := v.raw[other.Name]; ok && given(other, s) {
			first, second := o, other
			if other.Conflicts == o.Name {
				first, second = other, o
			}
			return &ConflictError{Flag: flagSpelling(first), Other: flagSpelling(second)}
		}
	}
	return nil
}

// given reports whether value, set for o, counts as giving the option.
func given(o *Option, value string) bool {
	if o.Kind != KindBool {
		return true
	}
	b, _ := strconv.ParseBool(value)
	return b
}

// flagSpelling is "-s/--long", or "--long" without a short flag.
func flagSpelling(o *Option) string {
	if o.Short != "" {
		return "-" + o.Short + "/--" + o.FlagName()
	}
	return "--" + o.FlagName()
}

// Bool reports the value a bool global will have at load time: the value given with Set,
// else the option's default, else the object's initial value.
func (v *Values) Bool(name string) bool {
	o := v.pkg.Option(name)
	if o == nil || o.Kind != KindBool {
		return false
	}
	if s, ok := v.raw[name]; ok {
		b, _ := strconv.ParseBool(s)
		return b
	}
	if o.Default != "" {
		b, _ := strconv.ParseBool(o.Default)
		return b
	}
	if vs, ok := v.pkg.spec.Variables[name]; ok && len(vs.Value) > 0 {
		return vs.Value[0] != 0
	}
	return false
}

// Text returns the value a global will have at load time as text: the value given with
// Set, else the option's default, else, for a char[] global, the object's initial string.
// It is "" for a name that is not an option.
func (v *Values) Text(name string) string {
	o := v.pkg.Option(name)
	if o == nil {
		return ""
	}
	if s, ok := v.value(o); ok {
		return s
	}
	if vs, ok := v.pkg.spec.Variables[name]; ok && o.Kind == KindString {
		b := vs.Value
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	return ""
}

// IsSet reports whether an option counts as set for show= and time= hints: a bool global
// that is true, a number that is not zero, a string that is not empty.
func (v *Values) IsSet(name string) bool {
	o := v.pkg.Option(name)
	if o == nil {
		return false
	}
	if o.Kind == KindBool {
		return v.Bool(name)
	}
	s := v.Text(name)
	if o.Kind == KindString || s == "" {
		return s != ""
	}
	f, err := strconv.ParseFloat(s, 64)
	return err != nil || f != 0
}

// Role returns the value, as given by the user (before any scale), of the option with
// role r, and whether the package has such an option with a non-zero value. An option the
// user did not set has its default, else the global's initial value in the object.
func (v *Values) Role(r string) (float64, bool) {
	for _, o := range v.pkg.opts {
		if o.Role != r {
			continue
		}
		s, ok := v.value(o)
		if !ok {
			f := v.initial(o)
			return f, f > 0
		}
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil && f > 0
	}
	return 0, false
}

// text returns an option's value as text: as given, else its default, else the object's
// initial value ("" for an unknown option).
func (v *Values) text(name string) string {
	o := v.pkg.Option(name)
	if o == nil {
		return ""
	}
	if o.Kind == KindBool {
		return strconv.FormatBool(v.Bool(name))
	}
	if s, ok := v.value(o); ok {
		return s
	}
	return strconv.FormatFloat(v.initial(o), 'f', -1, 64)
}

// set reports whether a bool option is true, or another option was given (Set).
func (v *Values) set(name string) bool {
	o := v.pkg.Option(name)
	if o == nil {
		return false
	}
	if o.Kind == KindBool {
		return v.Bool(name)
	}
	_, ok := v.raw[o.Name]
	return ok
}

// initial returns the initial value of a numeric option's global in the object, divided by
// the option's scale (0 when there is none).
func (v *Values) initial(o *Option) float64 {
	vs, ok := v.pkg.spec.Variables[o.Name]
	if !ok || len(vs.Value) < o.Size || o.Size == 0 {
		return 0
	}
	b := vs.Value[:o.Size]
	var f float64
	switch {
	case o.Kind == KindFloat && o.Size == 4:
		f = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case o.Kind == KindFloat && o.Size == 8:
		f = math.Float64frombits(binary.LittleEndian.Uint64(b))
	case o.Kind == KindInt || o.Kind == KindUint:
		var u uint64
		for i := o.Size - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if o.Kind == KindInt && o.Size < 8 && u&(1<<(8*o.Size-1)) != 0 {
			u |= ^uint64(0) << (8 * o.Size)
		}
		if f = float64(u); o.Kind == KindInt {
			f = float64(int64(u))
		}
	}
	if o.Scale != 0 {
		f /= o.Scale
	}
	return f
}

// value returns the text an option has at load time and whether it has one: the value
// given with Set, else the option's default ("" and false keep the object's initial value).
func (v *Values) value(o *Option) (string, bool) {
	if s, ok := v.raw[o.Name]; ok {
		return s, true
	}
	return o.Default, o.Default != ""
}

// buildOptions makes the tool's options from the data sections' variables and checks that
// their flags are unique and at most one is positional.
func (p *Package) buildOptions() error {
	seen := map[string]string{} // flag spelling ("name" or "-s") -> variable
	claim := func(flag, name, path string) error {
		if prev, dup := seen[flag]; dup {
			return badf(path, "flag -%s is used by both %s and %s", flag, prev, name)
		}
		seen[flag] = name
		return nil
	}
	for si, ds := range p.Meta.DataSections {
		for vi, v := range ds.Variables {
			if strings.HasPrefix(v.Name, "__eunomia_dummy") || v.Name == "__padding" {
				continue
			}
			path := jsonPath(p.Meta.path, "bpf_skel", "data_sections", si, "variables", vi)
			o, err := p.newOption(ds.Name, v, path)
			if err != nil {
				return err
			}
			if o == nil {
				continue
			}
			if err := claim("-"+o.FlagName(), v.Name, jsonPath(path, "cmdarg", "long")); err != nil {
				return err
			}
			if o.Short != "" {
				if err := claim(o.Short, v.Name, jsonPath(path, "cmdarg", "short")); err != nil {
					return err
				}
			}
			p.opts = append(p.opts, o)
		}
	}
	if err := p.checkConflicts(); err != nil {
		return err
	}
	return p.checkPositionals()
}

// checkConflicts checks that every cmdarg "conflicts" names another option.
func (p *Package) checkConflicts() error {
	for si, ds := range p.Meta.DataSections {
		for vi, v := range ds.Variables {
			c := v.Cmdarg.Conflicts
			if c == "" {
				continue
			}
			if o := p.Option(c); o == nil || c == v.Name {
				path := jsonPath(p.Meta.path, "bpf_skel", "data_sections", si, "variables", vi, "cmdarg", "conflicts")
				return badf(path, "%q is not another option of the program", c)
			}
		}
	}
	return nil
}

// checkPositionals checks that positional places are unique and that roles are on
// numbers, one option per role.
func (p *Package) checkPositionals() error {
	at := jsonPath(p.Meta.path, "bpf_skel", "data_sections")
	place, role := map[int]string{}, map[string]string{}
	for _, o := range p.opts {
		if o.Positional > 0 {
			if prev, dup := place[o.Positional]; dup {
				return badf(at, "variables %s and %s are both positional argument %d", prev, o.Name, o.Positional)
			}
			place[o.Positional] = o.Name
		}
		if o.Role == "" {
			continue
		}
		if o.Kind != KindInt && o.Kind != KindUint && o.Kind != KindFloat {
			return badf(at, "variable %s has role %q but is a %s, want a number", o.Name, o.Role, o.Type)
		}
		if prev, dup := role[o.Role]; dup {
			return badf(at, "variables %s and %s both have role %q", prev, o.Name, o.Role)
		}
		role[o.Role] = o.Name
	}
	return nil
}

// newOption makes the option of variable v (at JSON path) of data section sec. It returns
// nil for variables that are not options: lost-event counters, and globals of a type the
// command line cannot set that the package gives no value.
func (p *Package) newOption(sec string, v Variable, path string) (*Option, error) {
	vs, ok := p.spec.Variables[v.Name]
	if !ok {
		return nil, badf(jsonPath(path, "name"), "variable %q is not in the BPF object", v.Name)
	}
	if vs.Type != nil && slices.Contains(vs.Type.Tags, "ecli:lost") {
		return nil, nil // a lost-event counter (runner/lost.go), not an option
	}
	if vs.Type == nil {
		return nil, badf(jsonPath(path, "name"), "variable %q has no BTF type in the object", v.Name)
	}
	o := &Option{Name: v.Name, Section: sec, Long: v.Name, Type: v.Type, btfType: vs.Type.Type,
		Help: v.Description, Positional: v.Cmdarg.Positional, Role: v.Cmdarg.Role, Scale: v.Cmdarg.Scale, Metavar: v.Cmdarg.Metavar,
		Unsupported: v.Cmdarg.Unsupported, PinnedMap: v.Cmdarg.PinnedMap, MaxEntries: v.Cmdarg.MaxEntries, Conflicts: v.Cmdarg.Conflicts}
	if o.Type == "" {
		o.Type = typeString(o.btfType)
	}
	if err := o.classify(); err != nil {
		if v.Value != "" || v.Cmdarg.Default != "" {
			return nil, badf(jsonPath(path, "type"), "variable %s: %w", v.Name, err)
		}
		return nil, nil // not settable from the command line, and nothing to set
	}
	if o.PinnedMap != "" {
		if o.Kind != KindString {
			return nil, badf(jsonPath(path, "cmdarg", "pinned_map"), "variable %s is a %s, want a char[N] to hold the path", v.Name, o.Type)
		}
		if ms, ok := p.spec.Maps[o.PinnedMap]; !ok || ms == nil {
			return nil, badf(jsonPath(path, "cmdarg", "pinned_map"), "map %q is not in the BPF object", o.PinnedMap)
		}
	}
	if o.MaxEntries != "" {
		if o.Kind != KindInt && o.Kind != KindUint {
			return nil, badf(jsonPath(path, "cmdarg", "max_entries"), "variable %s is a %s, want an integer", v.Name, o.Type)
		}
		if ms, ok := p.spec.Maps[o.MaxEntries]; !ok || ms == nil {
			return nil, badf(jsonPath(path, "cmdarg", "max_entries"), "map %q is not in the BPF object", o.MaxEntries)
		}
	}
	if v.Cmdarg.Long != "" {
		o.Long = v.Cmdarg.Long
	}
	o.Short = v.Cmdarg.Short
	if v.Cmdarg.Help != "" {
		o.Help = v.Cmdarg.Help
	}
	if o.Help == "" {
		o.Help = fmt.Sprintf("set the %s variable %s", o.Type, v.Name)
	}
	if o.Unsupported != "" {
		o.Help += " (not supported: " + o.Unsupported + ")"
	}
	if err := o.setDefault(v, vs.Value, path); err != nil {
		return nil, err
	}
	return o, nil
}

// setDefault takes the option's default from cmdarg.default, else the variable's value,
// and picks the bool flag spelling (eunomia's rules) from it; init is the object's initial
// value of the variable.
func (o *Option) setDefault(v Variable, init []byte, path string) error {
	def, defPath := v.Cmdarg.Default, jsonPath(path, "cmdarg", "default")
	if def == "" {
		def, defPath = v.Value, jsonPath(path, "value")
	}
	if def != "" {
		d, err := jsonToText(def, o.Kind)
		if err != nil {
			return badf(defPath, "%w", err)
		}
		if _, err := o.encode(d); err != nil {
			return badf(defPath, "%w", err)
		}
		o.Default = d
	}
	if o.Kind != KindBool {
		return nil
	}
	if o.Default == "" && len(init) > 0 && init[0] != 0 {
		// The object initialises it to true: offer --disable-X, not a no-op --X.
		o.Default = "true"
	}
	switch o.Default {
	case "":
		o.BoolMode = BoolSwitch
	case "true":
		o.BoolMode = BoolDisable
	default:
		o.BoolMode = BoolEnable
	}
	// An explicit short flag keeps the plain switch spelling (ecli extension: bcc-style
	// -t / --timestamp).
	if o.Short != "" && o.Default != "true" {
		o.BoolMode = BoolSwitch
	}
	return nil
}

// classify derives Kind and Size from the variable's BTF type.
func (o *Option) classify() error {
	t := btf.UnderlyingType(o.btfType)
	switch t := t.(type) {
	case *btf.Int:
		o.Size = int(t.Size)
		switch {
		case t.Encoding == btf.Bool:
			o.Kind = KindBool
		case t.Size > 8:
			return fmt.Errorf("%d-byte integers are not supported as options", t.Size)
		case t.Encoding == btf.Signed:
			o.Kind = KindInt
		default:
			o.Kind = KindUint
		}
	case *btf.Enum:
		o.Size = int(t.Size)
		o.Kind = KindUint
		if t.Signed {
			o.Kind = KindInt
		}
	case *btf.Float:
		o.Kind, o.Size = KindFloat, int(t.Size)
	case *btf.Array:
		if !isCharType(t.Type) {
			return fmt.Errorf("arrays other than char[N] are not supported as options")
		}
		o.Kind, o.Size = KindString, int(t.Nelems)
	case *btf.Pointer:
		return fmt.Errorf("pointers are not supported as options")
	default:
		return fmt.Errorf("%T is not supported as an option", t)
	}
	return nil
}

// enumValue returns the value of the enumerator named s when the option is an enum (an
// enum global takes a name, e.g. --errno EPERM, as well as a number).
func (o *Option) enumValue(s string) (uint64, bool) {
	e, ok := btf.UnderlyingType(o.btfType).(*btf.Enum)
	if !ok {
		return 0, false
	}
	for _, v := range e.Values {
		if v.Name == s {
			return v.Value, true
		}
	}
	return 0, false
}

func isCharType(t btf.Type) bool {
	i, ok := btf.UnderlyingType(t).(*btf.Int)
	return ok && i.Size == 1 && (i.Name == "char" || i.Encoding == btf.Char)
}

// encode turns a textual value into the bytes of the global.
func (o *Option) encode(s string) ([]byte, error) {
	b := make([]byte, o.Size)
	switch o.Kind {
	case KindBool:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a bool", s)
		}
		if v {
			b[0] = 1
		}
	case KindInt, KindUint:
		if v, ok := o.enumValue(s); ok {
			putUint(b, v)
			break
		}
		if o.Scale != 0 {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%q is not a number", s)
			}
			f = math.Round(f * o.Scale)
			if o.Kind == KindUint && f < 0 {
				return nil, fmt.Errorf("%s must not be negative", s)
			}
			if math.Abs(f) >= 1<<63 {
				return nil, fmt.Errorf("%s is out of range", s)
			}
			s = strconv.FormatInt(int64(f), 10)
		}
		bits := o.Size * 8
		if o.Kind == KindInt {
			v, err := strconv.ParseInt(s, 0, bits)
			if err != nil {
				return nil, numErr(s, err, o)
			}
			putUint(b, uint64(v))
		} else {
			v, err := strconv.ParseUint(s, 0, bits)
			if err != nil {
				return nil, numErr(s, err, o)
			}
			putUint(b, v)
		}
	case KindFloat:
		f, err := strconv.ParseFloat(s, o.Size*8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		if o.Size == 4 {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(f)))
		} else {
			binary.LittleEndian.PutUint64(b, math.Float64bits(f))
		}
	case KindString:
		if len(s)+1 > o.Size {
			return nil, fmt.Errorf("%q is too long: at most %d bytes", s, o.Size-1)
		}
		copy(b, s)
	}
	return b, nil
}

func numErr(s string, err error, o *Option) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%s is out of range for %s", s, o.Type)
	}
	return fmt.Errorf("%q is not an integer", s)
}

func putUint(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
}

// jsonToText converts a JSON default value to the option's textual form.
func jsonToText(raw string, k OptionKind) (string, error) {
	r := gjson.Parse(raw)
	switch r.Type {
	case gjson.True, gjson.False:
		if k != KindBool {
			return "", fmt.Errorf("bool default for a non-bool variable")
		}
		return strconv.FormatBool(r.Bool()), nil
	case gjson.Number:
		if k == KindBool {
			return "", fmt.Errorf("number default %s for a bool variable", raw)
		}
		return r.Raw, nil
	case gjson.String:
		if k == KindBool {
			return "", fmt.Errorf("string default for a bool variable")
		}
		return r.Str, nil
	}
	return "", fmt.Errorf("default %s is not a bool, number or string", raw)
}

// applyValues writes the options' values (defaults, and the user's choices in v) into the
// collection spec's globals.
func (p *Package) applyValues(spec *ebpf.CollectionSpec, v *Values) error {
	for _, o := range p.opts {
		val, set := v.value(o)
		if !set {
			continue // keep the object's initial value
		}
		b, err := o.encode(val)
		if err != nil {
			return &ValueError{Flag: o.FlagName(), Err: err}
		}
		vs, ok := spec.Variables[o.Name]
		if !ok {
			return fmt.Errorf("setting %s: variable not in object", o.Name)
		}
		if o.Kind == KindString {
			// Keep the object's bytes after the string (eunomia does the same).
			cur := append([]byte(nil), vs.Value...)
			if len(cur) < o.Size {
				cur = append(cur, make([]byte, o.Size-len(cur))...)
			}
			copy(cur, b[:len(val)+1])
			b = cur
		}
		if err := vs.Set(b); err != nil {
			return fmt.Errorf("setting %s: %w", o.Name, err)
		}
		if o.MaxEntries != "" {
			if err := setMaxEntries(spec.Maps[o.MaxEntries], o, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// setMaxEntries gives map ms the size val of option o (cmdarg max_entries).
func setMaxEntries(ms *ebpf.MapSpec, o *Option, val string) error {
	n, err := strconv.ParseUint(val, 0, 32)
	if err != nil || n == 0 {
		return &ValueError{Flag: o.FlagName(), Err: fmt.Errorf("%q: want a map size from 1 to %d", val, uint32(math.MaxUint32))}
	}
	if ms == nil {
		return fmt.Errorf("setting the size of map %s: not in the object", o.MaxEntries)
	}
	ms.MaxEntries = uint32(n)
	return nil
}

// typeString renders a BTF type as a C type string (decode.CTypeName).
func typeString(t btf.Type) string { return decode.CTypeName(t) }
