package btfexport

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"ecli/runner/decode"
)

// Version is what btfexport writes to meta.eunomia_version. It names this tool rather than
// pretending to be an ecc release; eunomia's loader treats the field as informational.
const Version = "ecli-btfexport 0.1"

// CompressionLevel is the fixed zlib level used for bpf_object, so output is reproducible.
const CompressionLevel = zlib.BestCompression

var (
	// ErrBadObject means the input is not a BPF ELF object cilium/ebpf can read, or lacks BTF.
	ErrBadObject = errors.New("bad BPF object")
	// ErrBadHint means a decl tag or doc comment in the source could not be used.
	ErrBadHint = errors.New("bad hint")
	// ErrMissingType means a struct the header defines is not in the object's BTF.
	ErrMissingType = errors.New("exported struct not in object BTF")
	// ErrAmbiguousEvent means no map names the event struct and the header does not settle it.
	ErrAmbiguousEvent = errors.New("ambiguous event struct")
)

// Options describe the object's provenance.
type Options struct {
	// Name is the tool name (the source file name up to its first dot). obj_name is Name+"_bpf",
	// as ecc writes it. Required.
	Name string
	// Header is the text of the header whose structs are exported (ecc's second argument).
	// Optional.
	Header []byte
	// HeaderName names the header in errors.
	HeaderName string
	// Source is the C source text, scanned for ecc-style `///` doc comments. Optional.
	Source []byte
	// SourceName names the source in errors.
	SourceName string
}

// Package is an eunomia package envelope. Its JSON form has keys in alphabetical order, like
// ecc's output.
type Package struct {
	BPFObject     string `json:"bpf_object"`
	BPFObjectSize int    `json:"bpf_object_size"`
	Meta          Meta   `json:"meta"`
}

// Meta is eunomia's EunomiaObjectMeta.
type Meta struct {
	BPFSkel                   Skeleton     `json:"bpf_skel"`
	EnableMultipleExportTypes bool         `json:"enable_multiple_export_types,omitempty"`
	EunomiaVersion            string       `json:"eunomia_version"`
	ExportTypes               []ExportType `json:"export_types"`
}

// Skeleton is eunomia's BpfSkeletonMeta.
type Skeleton struct {
	DataSections []DataSection `json:"data_sections"`
	Doc          fields        `json:"doc,omitempty"`
	Maps         []Map         `json:"maps"`
	ObjName      string        `json:"obj_name"`
	Progs        []Prog        `json:"progs"`
}

// DataSection lists the global variables of one data section (.rodata, .bss, .data, ...).
type DataSection struct {
	Name      string     `json:"name"`
	Variables []Variable `json:"variables"`
}

// Variable is a global variable. Extra holds keys from doc comments and decl tags (cmdarg,
// description, value, ...), already JSON.
type Variable struct {
	Name  string
	Type  string
	Extra map[string]json.RawMessage
}

// MarshalJSON writes the variable's keys in alphabetical order.
func (v Variable) MarshalJSON() ([]byte, error) {
	return marshalFields(v.Extra, "name", v.Name, "type", v.Type)
}

// Map is a BPF map. Name is libbpf's name for it (for internal maps, the first 8 characters of
// obj_name followed by the section, e.g. "tcpconnl.rodata"); Ident is the skeleton identifier
// ("rodata", "bss", "events"). Extra holds doc-comment keys such as sample and export_config.
type Map struct {
	Name   string
	Ident  string
	Mmaped bool
	Extra  map[string]json.RawMessage
}

// MarshalJSON writes the map's keys in alphabetical order.
func (m Map) MarshalJSON() ([]byte, error) {
	kv := []any{"ident", m.Ident, "name", m.Name}
	if m.Mmaped {
		kv = append(kv, "mmaped", true)
	}
	return marshalFields(m.Extra, kv...)
}

// Prog is a BPF program: its function name and ELF section. Extra holds doc-comment keys
// (e.g. ifindex, xdpopts, tchook).
type Prog struct {
	Name   string
	Attach string
	Extra  map[string]json.RawMessage
}

// MarshalJSON writes the program's keys in alphabetical order.
func (p Prog) MarshalJSON() ([]byte, error) {
	return marshalFields(p.Extra, "attach", p.Attach, "link", true, "name", p.Name)
}

// ExportType is an exported struct, by id in the object's own .BTF.
type ExportType struct {
	Members []ExportMember `json:"members"`
	Name    string         `json:"name"`
	Size    uint32         `json:"size"`
	TypeID  btf.TypeID     `json:"type_id"`
}

// ExportMember is one member of an exported struct; Type is informational.
type ExportMember struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// fields is a JSON object whose keys marshal in sorted order.
type fields = map[string]json.RawMessage

func marshalFields(extra fields, kv ...any) ([]byte, error) {
	m := make(fields, len(extra)+len(kv)/2)
	for k, v := range extra {
		m[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		raw, err := encodeJSON(kv[i+1])
		if err != nil {
			return nil, err
		}
		m[kv[i].(string)] = raw
	}
	return encodeJSON(m)
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// JSON returns the package as compact JSON with a final newline. The bytes depend only on
// the package's content.
func (p *Package) JSON() ([]byte, error) {
	b, err := encodeJSON(p)
	if err != nil {
		return nil, fmt.Errorf("encoding package: %w", err)
	}
	return append(b, '\n'), nil
}

// Export reads a BPF object (never loading it) and builds its package.
func Export(obj []byte, opts Options) (*Package, error) {
	if opts.Name == "" {
		return nil, errors.New("export: no object name given")
	}
	o, err := readObject(obj)
	if err != nil {
		return nil, err
	}
	docs, err := readDocs(o, opts)
	if err != nil {
		return nil, err
	}
	objName := opts.Name + "_bpf"
	pkg := &Package{BPFObjectSize: len(obj)}
	pkg.Meta.EunomiaVersion = Version
	skel := &pkg.Meta.BPFSkel
	skel.ObjName = objName
	skel.Doc = docs.license
	skel.Maps = skeletonMaps(o, objName, docs.maps)
	skel.Progs = skeletonProgs(o, docs.progs)
	if skel.DataSections, err = dataSections(o, docs.vars); err != nil {
		return nil, err
	}
	if pkg.Meta.ExportTypes, err = exportTypeList(o, opts); err != nil {
		return nil, err
	}
	if err := multipleExports(o.cs, skel.Maps, o.maps, pkg); err != nil {
		return nil, err
	}
	if err := verifyTypeIDs(obj, pkg.Meta.ExportTypes); err != nil {
		return nil, err
	}
	if pkg.BPFObject, err = compressObject(obj); err != nil {
		return nil, err
	}
	return pkg, nil
}

// object is what Export reads from a BPF ELF object: cilium/ebpf's view of it, with its maps
// and programs in libbpf's order.
type object struct {
	cs    *ebpf.CollectionSpec
	maps  []string // map names, see orderMaps
	progs []string // program names, see orderProgs
}

// readObject parses obj as a BPF ELF object with BTF, without loading it.
func readObject(obj []byte) (*object, error) {
	cs, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return nil, fmt.Errorf("reading object: %w: %w", ErrBadObject, err)
	}
	if cs.Types == nil {
		return nil, fmt.Errorf("reading object: %w: no .BTF section (compile with -g)", ErrBadObject)
	}
	ef, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		return nil, fmt.Errorf("reading object: %w: %w", ErrBadObject, err)
	}
	syms, err := ef.Symbols()
	if err != nil {
		return nil, fmt.Errorf("reading object symbols: %w: %w", ErrBadObject, err)
	}
	return &object{cs: cs, maps: orderMaps(cs, ef, syms), progs: orderProgs(cs, syms)}, nil
}

// objectDocs are the doc-comment keys of the source, by what they document.
type objectDocs struct {
	maps, progs, vars map[string]fields // by map, program and global name
	license           fields            // the comment above LICENSE: bpf_skel.doc
}

// readDocs scans opts.Source for doc comments and attaches each to the map, program,
// global or LICENSE it documents; @sample and @cmdarg must be JSON objects.
func readDocs(o *object, opts Options) (objectDocs, error) {
	docs := objectDocs{maps: map[string]fields{}, progs: map[string]fields{}, vars: map[string]fields{}}
	if opts.Source == nil {
		return docs, nil
	}
	blocks, err := scanDocComments(nameOr(opts.SourceName, "source"), opts.Source)
	if err != nil {
		return objectDocs{}, fmt.Errorf("reading doc comments: %w: %w", ErrBadHint, err)
	}
	cs := o.cs
	isUserMap := func(s string) bool { m, ok := cs.Maps[s]; return ok && !isInternal(s) && m != nil }
	isProg := func(s string) bool { _, ok := cs.Programs[s]; return ok }
	isVar := func(s string) bool { _, ok := cs.Variables[s]; return ok }
	isLicense := func(s string) bool { return s == "LICENSE" }
	for _, b := range blocks {
		if b.mapDef {
			if n := b.target(isUserMap, false); n != "" {
				docs.maps[n] = merge(docs.maps[n], b.keys)
			}
			continue
		}
		if n := b.target(isProg, false); n != "" {
			docs.progs[n] = merge(docs.progs[n], b.keys)
		} else if n := b.target(isLicense, true); n != "" {
			docs.license = merge(docs.license, b.keys)
		} else if n := b.target(isVar, true); n != "" {
			docs.vars[n] = merge(docs.vars[n], b.keys)
		}
	}
	for n, k := range docs.maps {
		if err := wantObject(k, "sample", "map "+n); err != nil {
			return objectDocs{}, err
		}
	}
	for n, k := range docs.vars {
		if err := wantObject(k, "cmdarg", "global "+n); err != nil {
			return objectDocs{}, err
		}
	}
	return docs, nil
}

// skeletonMaps lists the object's maps for bpf_skel.maps; internal maps get libbpf's names.
func skeletonMaps(o *object, objName string, docs map[string]fields) []Map {
	out := []Map{}
	for _, name := range o.maps {
		m := Map{Name: name, Ident: name, Extra: docs[name]}
		if isInternal(name) {
			m.Name = libbpfInternalName(objName, name)
			m.Ident = skelIdent(name)
			m.Mmaped = true
		}
		out = append(out, m)
	}
	return out
}

// skeletonProgs lists the object's programs for bpf_skel.progs.
func skeletonProgs(o *object, docs map[string]fields) []Prog {
	out := []Prog{}
	for _, name := range o.progs {
		out = append(out, Prog{Name: name, Attach: o.cs.Programs[name].SectionName, Extra: docs[name]})
	}
	return out
}

// dataSections lists the global variables of every internal map that has any.
func dataSections(o *object, docs map[string]fields) ([]DataSection, error) {
	out := []DataSection{}
	for _, name := range o.maps {
		ds, ok := o.cs.Maps[name].Value.(*btf.Datasec)
		if !ok || !isInternal(name) {
			continue
		}
		sec, err := dataSection(name, ds, docs)
		if err != nil {
			return nil, err
		}
		if len(sec.Variables) > 0 {
			out = append(out, sec)
		}
	}
	return out, nil
}

// exportTypeList builds export_types from the structs exportTypes picks.
func exportTypeList(o *object, opts Options) ([]ExportType, error) {
	structs, err := exportTypes(o.cs, o.maps, opts)
	if err != nil {
		return nil, err
	}
	out := []ExportType{}
	for _, s := range structs {
		et, err := exportType(o.cs.Types, s)
		if err != nil {
			return nil, err
		}
		out = append(out, et)
	}
	return out, nil
}

// compressObject is bpf_object: obj compressed with zlib at CompressionLevel, in base64.
func compressObject(obj []byte) (string, error) {
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, CompressionLevel)
	if err != nil {
		return "", fmt.Errorf("compressing object: %w", err)
	}
	if _, err := zw.Write(obj); err != nil {
		return "", fmt.Errorf("compressing object: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compressing object: %w", err)
	}
	return base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func merge(dst, src fields) fields {
	if dst == nil {
		dst = fields{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func wantObject(k fields, key, what string) error {
	raw, ok := k[key]
	if !ok {
		return nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("doc comment of %s: %w: @%s must be a JSON object, got %s", what, ErrBadHint, key, raw)
	}
	return nil
}

// isInternal reports whether a cilium/ebpf map name is a global-data map.
func isInternal(name string) bool {
	for _, p := range []string{".data", ".rodata", ".bss", ".kconfig"} {
		if name == p || strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// skelIdent is bpftool's skeleton identifier for an internal map: the section name without
// its leading dot, other non-alphanumerics replaced by '_' (".rodata.str1.1" → "rodata_str1_1").
func skelIdent(sec string) string {
	b := []byte(strings.TrimPrefix(sec, "."))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// libbpfInternalName is libbpf's name for an internal map (internal_map_name in libbpf.c):
// up to 8 characters of the object name then the section name, or just the section name for
// `.data.*` / `.rodata.*`; capped at 15 characters and sanitised.
func libbpfInternalName(objName, sec string) string {
	const objNameLen = 16 // BPF_OBJ_NAME_LEN
	sfx := max(len(sec), 7)
	pfx := 0
	if !strings.Contains(sec[1:], ".") {
		pfx = min(objNameLen-sfx-1, len(objName))
	}
	pfx = max(pfx, 0)
	s := objName[:pfx] + sec
	if len(s) > objNameLen-1 {
		s = s[:objNameLen-1]
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// orderMaps lists map names in libbpf's order: maps defined in `.maps` (and legacy `maps`) by
// their offset, then global-data maps in ELF section order, then anything else by name.
func orderMaps(cs *ebpf.CollectionSpec, ef *elf.File, syms []elf.Symbol) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if _, ok := cs.Maps[n]; ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	type symAt struct {
		name      string
		sec       elf.SectionIndex
		off       uint64
		tableSlot int
	}
	var user []symAt
	for i, s := range syms {
		if int(s.Section) <= 0 || int(s.Section) >= len(ef.Sections) {
			continue
		}
		sec := ef.Sections[s.Section].Name
		if sec != ".maps" && sec != "maps" {
			continue
		}
		user = append(user, symAt{s.Name, s.Section, s.Value, i})
	}
	sort.SliceStable(user, func(i, j int) bool {
		if user[i].sec != user[j].sec {
			return user[i].sec < user[j].sec
		}
		return user[i].off < user[j].off
	})
	for _, s := range user {
		add(s.name)
	}
	for _, sec := range ef.Sections {
		if isInternal(sec.Name) {
			add(sec.Name)
		}
	}
	var rest []string
	for n := range cs.Maps {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// orderProgs lists programs in libbpf's order: by ELF section, then offset.
func orderProgs(cs *ebpf.CollectionSpec, syms []elf.Symbol) []string {
	type at struct {
		sec elf.SectionIndex
		off uint64
	}
	pos := map[string]at{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		if _, ok := cs.Programs[s.Name]; ok {
			pos[s.Name] = at{s.Section, s.Value}
		}
	}
	names := make([]string, 0, len(cs.Programs))
	for n := range cs.Programs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := pos[names[i]], pos[names[j]]
		if a.sec != b.sec {
			return a.sec < b.sec
		}
		if a.off != b.off {
			return a.off < b.off
		}
		return names[i] < names[j]
	})
	return names
}

// dataSection lists a section's global (non-static) variables by offset.
func dataSection(sec string, ds *btf.Datasec, docs map[string]fields) (DataSection, error) {
	vars := append([]btf.VarSecinfo(nil), ds.Vars...)
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].Offset < vars[j].Offset })
	out := DataSection{Name: sec, Variables: []Variable{}}
	for _, vs := range vars {
		v, ok := vs.Type.(*btf.Var)
		if !ok || v.Linkage == btf.StaticVar {
			continue
		}
		extra := merge(nil, docs[v.Name])
		if err := applyVarTags(v, extra); err != nil {
			return DataSection{}, err
		}
		if len(extra) == 0 {
			extra = nil
		}
		out.Variables = append(out.Variables, Variable{Name: v.Name, Type: skelType(v.Type), Extra: extra})
	}
	return out, nil
}

// TagPrefix starts every ecli decl tag.
const TagPrefix = "ecli:"

// applyVarTags turns `ecli:` decl tags on a global into cmdarg keys, overriding doc comments.
func applyVarTags(v *btf.Var, extra fields) error {
	cmd := fields{}
	if raw, ok := extra["cmdarg"]; ok {
		if err := json.Unmarshal(raw, &cmd); err != nil {
			return fmt.Errorf("global %s: %w: @cmdarg: %w", v.Name, ErrBadHint, err)
		}
	}
	tagged := false
	for _, tag := range v.Tags {
		rest, ok := strings.CutPrefix(tag, TagPrefix)
		if !ok {
			continue
		}
		key, val, hasVal := strings.Cut(rest, "=")
		bad := func(why string) error {
			return fmt.Errorf("global %s: %w: tag %q: %s", v.Name, ErrBadHint, tag, why)
		}
		if key == "lost" {
			// Not a flag: the runner reads it from BTF and reports the counter's growth.
			if hasVal {
				return bad("takes no value")
			}
			continue
		}
		tagged = true
		switch key {
		case "short":
			if !hasVal || len(val) != 1 {
				return bad("want one character")
			}
			cmd[key] = jsonString(val)
		case "long", "help", "metavar", "unsupported", "pinned_map", "max_entries", "conflicts":
			if !hasVal || val == "" {
				return bad("want a value")
			}
			cmd[key] = jsonString(val)
		case "positional":
			// positional (= true), positional=false, or positional=N: the place among
			// several positional arguments (1-based).
			pos := "true"
			if hasVal {
				if n, err := strconv.Atoi(val); err == nil && n >= 1 && n <= 16 {
					pos = strconv.Itoa(n)
				} else if b, err := strconv.ParseBool(val); err == nil {
					pos = strconv.FormatBool(b)
				} else {
					return bad("want true, false or a position from 1 to 16")
				}
			}
			cmd[key] = json.RawMessage(pos)
		case "role":
			switch val {
			case "duration", "interval", "count", "rows", "perf_freq", "perf_period":
				cmd[key] = jsonString(val)
			default:
				return bad("want duration, interval, count, rows, perf_freq or perf_period")
			}
		case "scale":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f == 0 {
				return bad("want a non-zero number")
			}
			cmd[key] = json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64))
		case "default":
			if !hasVal {
				return bad("want a value")
			}
			cmd[key] = jsonValue(val)
		default:
			return bad("unknown key (known: short, long, help, metavar, positional, role, scale, default, unsupported, pinned_map, max_entries, conflicts, lost)")
		}
	}
	if tagged || len(cmd) > 0 {
		raw, err := encodeJSON(cmd)
		if err != nil {
			return fmt.Errorf("global %s: %w", v.Name, err)
		}
		extra["cmdarg"] = raw
	}
	return nil
}

// multipleExports switches the package to eunomia's multiple-export mode when more than one
// map exports (ring buffers, perf buffers, sampled maps): in single-export mode eunomia would
// read only the last of them and decode it with export_types[0]. Each ring/perf buffer then
// names its value struct ({"btf_type_id": N}, falling back to export_types[0]) and each
// sampled map uses its BTF value type ("default"). An explicit @export_config is kept.
func multipleExports(cs *ebpf.CollectionSpec, metas []Map, names []string, pkg *Package) error {
	var exporters []int
	for i, n := range names {
		m := cs.Maps[n]
		if _, sampled := metas[i].Extra["sample"]; sampled || m.Type == ebpf.RingBuf || m.Type == ebpf.PerfEventArray {
			exporters = append(exporters, i)
		}
	}
	if len(exporters) < 2 {
		return nil
	}
	pkg.Meta.EnableMultipleExportTypes = true
	for _, i := range exporters {
		if _, ok := metas[i].Extra["export_config"]; ok {
			continue
		}
		m := cs.Maps[names[i]]
		var cfg json.RawMessage
		switch {
		case metas[i].Extra["sample"] != nil:
			cfg = json.RawMessage(`"default"`)
		default:
			var id btf.TypeID
			if s, ok := decode.Underlying(m.Value).(*btf.Struct); ok && m.Value != nil {
				tid, err := cs.Types.TypeID(s)
				if err != nil {
					return fmt.Errorf("finding type id of map %s value: %w", names[i], err)
				}
				id = tid
			} else if len(pkg.Meta.ExportTypes) > 0 {
				id = pkg.Meta.ExportTypes[0].TypeID
			} else {
				continue
			}
			cfg = json.RawMessage(fmt.Sprintf(`{"btf_type_id":%d}`, id))
		}
		if metas[i].Extra == nil {
			metas[i].Extra = fields{}
		}
		metas[i].Extra["export_config"] = cfg
	}
	return nil
}

func exportType(spec *btf.Spec, s *btf.Struct) (ExportType, error) {
	id, err := spec.TypeID(s)
	if err != nil {
		return ExportType{}, fmt.Errorf("finding type id of struct %s: %w", s.Name, err)
	}
	et := ExportType{Name: s.Name, Size: s.Size, TypeID: id, Members: []ExportMember{}}
	for _, m := range s.Members {
		et.Members = append(et.Members, ExportMember{Name: m.Name, Type: skelType(m.Type)})
	}
	return et, nil
}

// verifyTypeIDs re-reads the object's BTF and checks every type_id names the struct claimed,
// with the same member count (what eunomia's loader checks).
func verifyTypeIDs(obj []byte, types []ExportType) error {
	if len(types) == 0 {
		return nil
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return fmt.Errorf("re-reading object BTF: %w: %w", ErrBadObject, err)
	}
	for _, et := range types {
		typ, err := spec.TypeByID(et.TypeID)
		if err != nil {
			return fmt.Errorf("verifying type_id %d of struct %s: %w", et.TypeID, et.Name, err)
		}
		s, ok := typ.(*btf.Struct)
		if !ok || s.Name != et.Name || len(s.Members) != len(et.Members) {
			return fmt.Errorf("verifying type_id %d of struct %s: object BTF has %v", et.TypeID, et.Name, typ)
		}
	}
	return nil
}
