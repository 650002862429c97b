package runner

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"ecli/runner/decode"
)

// exporter is one map whose contents ecli prints: a ring buffer or perf event array
// streaming events, or a sampled map.
type exporter struct {
	meta    MapMeta
	specMap *ebpf.MapSpec
	name    string // map name in the object
	plan    *decode.Plan
	keyPlan *decode.Plan // sampled maps only
	table   *decode.Plan // sample type "table": key and value side by side
	sort    []sortField  // sample.sort, resolved
	stacks  bool         // the key has stack-id fields: entries render as stack counts
	// clearMu is held while a sampled map is cleared and while ReadSampled reads it.
	clearMu sync.Mutex
}

// sortField is a resolved SortKey: an integer at Offset in key||value.
type sortField struct {
	off, size uint32
	signed    bool
	desc      bool
}

// active reports whether the map is printed with the given bool globals (when/unless).
func (e *exporter) active(flag func(string) bool) bool {
	if e.meta.When != "" && !flag(e.meta.When) {
		return false
	}
	return e.meta.Unless == "" || !flag(e.meta.Unless)
}

// specMapName finds the object's map for a skeleton map entry: by name, else by ident
// (libbpf truncates internal map names: "client_b.rodata" has ident "rodata", which
// cilium/ebpf calls ".rodata").
func specMapName(spec *ebpf.CollectionSpec, mm MapMeta) (string, bool) {
	if _, ok := spec.Maps[mm.Name]; ok && mm.Name != "" {
		return mm.Name, true
	}
	if mm.Ident != "" {
		if _, ok := spec.Maps[mm.Ident]; ok {
			return mm.Ident, true
		}
		n := "." + strings.ReplaceAll(mm.Ident, "_", ".")
		if _, ok := spec.Maps[n]; ok {
			return n, true
		}
		// libbpf makes an internal map's ident from its section name, any character that
		// cannot be in a C identifier becoming '_' (".data.my_var" is "data_my_var").
		for _, n := range slices.Sorted(maps.Keys(spec.Maps)) {
			if strings.HasPrefix(n, ".") && skeletonIdent(n) == mm.Ident {
				return n, true
			}
		}
	}
	return "", false
}

// skeletonIdent is libbpf's skeleton identifier of an internal map's section name.
func skeletonIdent(section string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.TrimPrefix(section, "."))
}

func isStream(ms *ebpf.MapSpec) bool {
	return ms.Type == ebpf.RingBuf || ms.Type == ebpf.PerfEventArray
}

// OutputKind says how Run prints an Output.
type OutputKind int

// Output kinds.
const (
	// OutputStream is a ring buffer or perf event array: one line per event.
	OutputStream OutputKind = iota
	// OutputSample is a sampled map: its entries every interval, or once at exit.
	OutputSample
)

// Output describes one map whose contents Run prints, with the decode plans compiled for
// one set of Values.
type Output struct {
	// Map is the map's name in the object.
	Map string
	// Kind is OutputStream or OutputSample.
	Kind OutputKind
	// Active reports whether the map is printed with these values (the map's when/unless).
	Active bool
	// Plan decodes one printed line: an event, a sampled map's value, or for a sample of
	// type "table" the entry's key bytes followed by its value bytes.
	Plan *decode.Plan
	// Key decodes a sampled map's key; nil for streams.
	Key *decode.Plan
	// Value decodes a sampled map's value alone (Plan does too, except for "table"
	// samples); nil for streams.
	Value *decode.Plan
	// Sample is a sampled map's sampling configuration; nil for streams.
	Sample *Sample
	// KeyType and ValueType are a sampled map's BTF key and value types; nil for streams.
	KeyType, ValueType btf.Type
	// Unit is a sampled map's unit with these values (sample.unit, or unit_if's when its
	// bool is true: runqlat -m is msecs); "" for streams.
	Unit string
}

// Outputs compiles what the package prints with the values v (nil: the defaults), in
// package order. It needs no kernel and is what `ecli inspect` shows; Load compiles the
// same outputs once for its Instance. A Plan keeps per-run state (the `rel` hint), so the
// plans returned are the caller's own.
func (p *Package) Outputs(v *Values) ([]Output, error) {
	if v == nil {
		v = p.NewValues()
	}
	exps, err := p.compileOutputs(v, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Output, len(exps))
	for i, e := range exps {
		o := Output{Map: e.name, Kind: OutputStream, Active: e.active(v.Bool), Plan: e.plan}
		if e.meta.Sample != nil {
			smp := *e.meta.Sample
			o.Kind, o.Key, o.Value, o.Sample = OutputSample, e.keyPlan, e.plan, &smp
			o.Unit = smp.UnitWith(v.Bool)
			o.KeyType, o.ValueType = e.specMap.Key, e.specMap.Value
			if e.table != nil {
				o.Plan = e.table
			}
		}
		out[i] = o
	}
	return out, nil
}

// compileOutputs works out what the package exports, with eunomia's rules, and compiles
// the decode plans for the values v; now is the clock of TIME columns (nil: time.Now). In
// single-export mode the last map that is sampled or is a ring/perf buffer wins and its
// events are export_types[0]; in multi-export mode every map with an export_config is an
// exporter. This is the one place outputs are compiled: Parse calls it to refuse a bad
// export early, Load once for its Instance, Outputs for its caller.
func (p *Package) compileOutputs(v *Values, now func() time.Time) ([]*exporter, error) {
	opts := decode.Options{Flag: v.IsSet, Text: v.Text, Time: now, ReadFile: readProcFile}
	var out []*exporter
	for idx, mm := range p.Meta.Maps {
		e, err := p.compileOutput(mm, jsonPath(p.Meta.path, "bpf_skel", "maps", idx), opts)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		if p.Meta.MultipleExportTypes {
			out = append(out, e)
		} else {
			out = []*exporter{e} // the last one wins, as in eunomia
		}
	}
	return out, nil
}

// compileOutput compiles the exporter of one skeleton map at path, or returns nil when
// the map is not printed.
func (p *Package) compileOutput(mm MapMeta, path string, opts decode.Options) (*exporter, error) {
	name, ok := specMapName(p.spec, mm)
	if !ok {
		if mm.Sample != nil || (p.Meta.MultipleExportTypes && mm.Export.Kind != ExportNone) {
			return nil, badf(path, "map %q (ident %q) is not in the BPF object", mm.Name, mm.Ident)
		}
		return nil, nil
	}
	ms := p.spec.Maps[name]
	if (mm.Sample == nil && !isStream(ms)) || (p.Meta.MultipleExportTypes && mm.Export.Kind == ExportNone) {
		return nil, nil // neither sampled nor streaming, or not exported in multi-export mode
	}
	e := &exporter{meta: mm, specMap: ms, name: name}
	var err error
	if e.plan, err = p.valuePlan(e, path, opts); err != nil {
		return nil, err
	}
	if mm.Sample != nil {
		if ms.Key == nil {
			return nil, badf(path, "sampled map %s has no BTF key type (declare it with __type(key, ...))", name)
		}
		if e.keyPlan, err = decode.Compile(ms.Key, decode.Options{Flag: opts.Flag, ReadFile: opts.ReadFile}); err != nil {
			return nil, badf(path, "key of map %s: %w", name, err)
		}
		if err := e.compileTable(path, opts); err != nil {
			return nil, err
		}
		if decode.HasStacks(e.keyPlan) {
			if err := p.compileStacks(e, path, opts.Flag); err != nil {
				return nil, err
			}
		}
	}
	flags := []struct{ at, name string }{{jsonPath(path, "when"), mm.When}, {jsonPath(path, "unless"), mm.Unless}}
	if smp := mm.Sample; smp != nil {
		flags = append(flags, struct{ at, name string }{jsonPath(path, "sample", "time"), smp.Time})
		if smp.UnitIf != nil {
			flags = append(flags, struct{ at, name string }{jsonPath(path, "sample", "unit_if"), smp.UnitIf.Flag})
		}
	}
	if smp := mm.Sample; smp != nil {
		for _, k := range []struct{ key, text string }{{"banner", smp.Banner}, {"footer", smp.Footer}} {
			_, names, _ := parseBanner(k.text) // checked by parseSample
			for _, n := range names {
				if p.Option(n) == nil {
					return nil, badf(jsonPath(path, "sample", k.key), "{%s}: not an option of the program", n)
				}
			}
		}
	}
	for _, c := range flags {
		if c.name == "" {
			continue
		}
		if o := p.Option(c.name); o == nil || o.Kind != KindBool {
			return nil, badf(c.at, "%q is not a bool global of the program", c.name)
		}
	}
	return e, nil
}

func (p *Package) valuePlan(e *exporter, path string, opts decode.Options) (*decode.Plan, error) {
	mm, ms := e.meta, e.specMap
	if p.Meta.MultipleExportTypes {
		switch mm.Export.Kind {
		case ExportTypeID:
			at := jsonPath(path, "export_config", "btf_type_id")
			t, err := p.spec.Types.TypeByID(mm.Export.TypeID)
			if err != nil {
				return nil, badf(at, "type %d is not in the object's BTF", mm.Export.TypeID)
			}
			return compilePlan(t, at, opts)
		case ExportMembers:
			var members []decode.Member
			for i, cm := range mm.Export.Members {
				t, err := p.spec.Types.TypeByID(cm.TypeID)
				if err != nil {
					return nil, badf(jsonPath(path, "export_config", "custom_members", i, "btf_type_id"), "type %d is not in the object's BTF", cm.TypeID)
				}
				members = append(members, decode.Member{Name: cm.Name, Offset: cm.Offset, Type: t})
			}
			plan, err := decode.CompileMembers(e.name, 0, members, opts)
			if err != nil {
				return nil, badf(jsonPath(path, "export_config", "custom_members"), "%w", err)
			}
			return plan, nil
		}
		// "default": the map's BTF value type.
		if ms.Value == nil {
			return nil, badf(jsonPath(path, "export_config"), "map %s has no BTF value type", e.name)
		}
		return compilePlan(ms.Value, path, opts)
	}
	if mm.Sample != nil {
		if ms.Value == nil {
			return nil, badf(jsonPath(path, "sample"), "sampled map %s has no BTF value type (declare it with __type(value, ...))", e.name)
		}
		return compilePlan(ms.Value, path, opts)
	}
	if len(p.Meta.ExportTypes) == 0 {
		return nil, badf(jsonPath(p.Meta.path, "export_types"),
			"map %s exports events but no export type is given (was the event header passed to the compiler?)", e.name)
	}
	et := p.Meta.ExportTypes[0]
	types := p.spec.Types
	if p.Meta.legacyBTF != nil {
		types = p.Meta.legacyBTF
	}
	at := jsonPath(p.Meta.path, "export_types", 0)
	t, err := types.TypeByID(et.TypeID)
	if err != nil {
		return nil, badf(jsonPath(at, "type_id"), "type %d is not in the BTF", et.TypeID)
	}
	return compilePlan(t, at, opts)
}

func compilePlan(t btf.Type, path string, opts decode.Options) (*decode.Plan, error) {
	plan, err := decode.Compile(t, opts)
	if err != nil {
		return nil, badf(path, "%w", err)
	}
	return plan, nil
}

// compileTable builds the plan of a "table" sample (the key's fields, then the value's, as
// one struct decoded from key||value) and resolves sample.sort against it.
func (e *exporter) compileTable(path string, opts decode.Options) error {
	smp := e.meta.Sample
	if smp.Type != "table" && len(smp.Sort) == 0 {
		return nil
	}
	ms := e.specMap
	ks, vs := ms.KeySize, ms.ValueSize
	s := &btf.Struct{Name: e.name, Size: ks + vs, Tags: []string{"ecli:time=off"}}
	s.Members = append(tableMembers(ms.Key, "key", 0), tableMembers(ms.Value, "value", ks)...)
	plan, err := decode.Compile(s, decode.Options{Flag: opts.Flag, Time: opts.Time, ReadFile: opts.ReadFile})
	if err != nil {
		return badf(jsonPath(path, "sample"), "table of map %s: %w", e.name, err)
	}
	if smp.Type == "table" {
		e.table = plan
	}
	for _, k := range smp.Sort {
		var f *decode.Field
		for i := range plan.Fields() {
			if plan.Fields()[i].Name == k.Field {
				f = &plan.Fields()[i]
				break
			}
		}
		if f == nil {
			return badf(jsonPath(path, "sample", "sort"), "map %s has no key or value field %q", e.name, k.Field)
		}
		var signed bool
		switch t := btf.UnderlyingType(f.Type).(type) {
		case *btf.Int:
			signed = t.Encoding == btf.Signed
		case *btf.Enum:
			signed = t.Signed
		default:
			return badf(jsonPath(path, "sample", "sort"), "field %q of map %s is not an integer", k.Field, e.name)
		}
		if f.BitfieldSize != 0 || f.Size > 8 {
			return badf(jsonPath(path, "sample", "sort"), "field %q of map %s is not a plain integer of up to 8 bytes", k.Field, e.name)
		}
		e.sort = append(e.sort, sortField{off: f.Offset, size: f.Size, signed: signed, desc: k.Desc})
	}
	return nil
}

// tableMembers returns a struct's members shifted by off bytes, or one member named name.
func tableMembers(t btf.Type, name string, off uint32) []btf.Member {
	if st, ok := btf.UnderlyingType(t).(*btf.Struct); ok {
		ms := make([]btf.Member, len(st.Members))
		for i, m := range st.Members {
			m.Offset += btf.Bits(off) * 8
			ms[i] = m
		}
		return ms
	}
	var tags []string
	if td, ok := t.(*btf.Typedef); ok {
		tags = td.Tags // hints on a typedef'd key or value
	}
	return []btf.Member{{Name: name, Type: t, Offset: btf.Bits(off) * 8, Tags: tags}}
}

// readProcFile reads the file of a file= display hint; decode accepts only paths under
// decode.FilePrefix, and this checks again before reading.
func readProcFile(path string) ([]byte, error) {
	if !strings.HasPrefix(filepath.Clean(path), decode.FilePrefix) {
		return nil, fmt.Errorf("%s: not under %s", path, decode.FilePrefix)
	}
	return os.ReadFile(path)
}
