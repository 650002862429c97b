package runner

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package that is caused by one of these
// conditions wraps the matching sentinel, so callers can test with errors.Is. The texts
// are terse: advice on what to do about them belongs to the caller (ecli's hints).
var (
	// ErrBadPackage: the package JSON or the object inside it is malformed. Such errors
	// are a *PackageError naming the JSON path at fault.
	ErrBadPackage = errors.New("bad package")
	// ErrPermission: the kernel refused for lack of privileges.
	ErrPermission = errors.New("permission denied")
	// ErrNoKernelBTF: no BTF for the running kernel could be found.
	ErrNoKernelBTF = errors.New("no kernel BTF")
	// ErrUnsupportedAttach: ecli does not know how to attach a program's ELF section.
	ErrUnsupportedAttach = errors.New("unsupported attach type")
	// ErrHookMissing: the section is understood, but this kernel lacks the hook
	// (e.g. no kprobe support, fentry refused, tracepoint absent).
	ErrHookMissing = errors.New("hook not available on this kernel")
	// ErrVerifier: the kernel's verifier rejected a program.
	ErrVerifier = errors.New("verifier rejected program")
	// ErrBadOption: a tool option (generated from the program's globals) got a bad value.
	// Such errors are a *ValueError naming the flag.
	ErrBadOption = errors.New("bad option")
	// ErrUnsupportedOption: the package lists the option but cannot honour it (cmdarg
	// "unsupported"). Such errors are an *UnsupportedOptionError.
	ErrUnsupportedOption = errors.New("option not supported")
)

// The typed errors below share one style: exported fields say what is at fault, Error
// gives one line, Unwrap returns the cause and Is matches the sentinel they belong to.

// PackageError is a problem at one JSON path of a package.
type PackageError struct {
	Path string // JSON path, e.g. "meta.bpf_skel.maps[2].sample.interval"; "" for the whole input
	Err  error
}

func (e *PackageError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%v: %v", ErrBadPackage, e.Err)
	}
	return fmt.Sprintf("%v: %s: %v", ErrBadPackage, e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *PackageError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadPackage.
func (e *PackageError) Is(target error) bool { return target == ErrBadPackage }

// ValueError is a value an option refused. It matches ErrBadOption with errors.Is.
type ValueError struct {
	Flag string // the long flag, without dashes
	Err  error  // why the value is wrong, e.g. `"abc" is not a number`
}

func (e *ValueError) Error() string { return fmt.Sprintf("%v: --%s: %v", ErrBadOption, e.Flag, e.Err) }

// Unwrap returns the reason.
func (e *ValueError) Unwrap() error { return e.Err }

// Is reports whether target is ErrBadOption.
func (e *ValueError) Is(target error) bool { return target == ErrBadOption }

// UnsupportedOptionError is an option the package lists but cannot honour. Its text is
// "--FLAG is not supported: REASON". It matches ErrUnsupportedOption with errors.Is.
type UnsupportedOptionError struct {
	Flag   string // the long flag, without dashes
	Reason string // the package's cmdarg "unsupported"
}

func (e *UnsupportedOptionError) Error() string {
	return fmt.Sprintf("--%s is not supported: %s", e.Flag, e.Reason)
}

// Is reports whether target is ErrUnsupportedOption.
func (e *UnsupportedOptionError) Is(target error) bool { return target == ErrUnsupportedOption }

// ConflictError is an option given together with one it excludes (cmdarg "conflicts").
// Its text is bcc's: "you may not specify -d/--dns with -c/--count". It matches
// ErrBadOption with errors.Is.
type ConflictError struct {
	Flag  string // the option carrying "conflicts", as "-s/--long" or "--long"
	Other string // the option it names
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("you may not specify %s with %s", e.Flag, e.Other)
}

// Is reports whether target is ErrBadOption.
func (e *ConflictError) Is(target error) bool { return target == ErrBadOption }

// badf returns a *PackageError at path.
func badf(path, format string, args ...any) error {
	return &PackageError{Path: path, Err: fmt.Errorf(format, args...)}
}

// jsonPath joins a JSON path: parent, then each element, a string as ".key" (no dot when
// the path is still empty) and an int as "[i]". jsonPath("", "bpf_skel", "progs", 0, "name")
// is "bpf_skel.progs[0].name"; jsonPath("meta", "export_types", 1) is "meta.export_types[1]".
func jsonPath(parent string, elems ...any) string {
	b := []byte(parent)
	for _, e := range elems {
		switch e := e.(type) {
		case int:
			b = fmt.Appendf(b, "[%d]", e)
		case string:
			if e == "" {
				continue // the meta object of a bare *.skel.json is at the root
			}
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, e...)
		default:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = fmt.Append(b, e)
		}
	}
	return string(b)
}
