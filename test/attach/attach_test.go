package attach

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
)

func TestMain(m *testing.M) {
	// 5.10 still charges BPF memory to RLIMIT_MEMLOCK.
	if os.Geteuid() == 0 {
		if err := rlimit.RemoveMemlock(); err != nil {
			fmt.Fprintln(os.Stderr, "removing memlock limit:", err)
		}
	}
	os.Exit(m.Run())
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown kernel"
	}
	return "Linux " + unix.ByteSliceToString(u.Release[:])
}

// An attachCase is one attach type: its test program testdata/attach/<name>.bpf.o, how to
// tell whether the kernel has the hook, and a trigger that makes it fire.
type attachCase struct {
	name  string
	probe hookProbe
	// setup runs before loading and returns the globals to set.
	setup func(t *testing.T) map[string]string
	// trigger makes the hook fire and returns the range of hits expected.
	trigger func(t *testing.T, globals map[string]string) (min, max uint64)
	// ownNetNS runs setup, load, attach and trigger in a network namespace of the test's own
	// (testutils.NetNS), so that programs on lo do not collide with other test binaries.
	ownNetNS bool
}

func tgidOnly(t *testing.T) map[string]string {
	return map[string]string{"target_tgid": strconv.Itoa(os.Getpid())}
}

const rounds = 3

// unlinkFiles calls unlink(2) on rounds fresh files.
func unlinkFiles(t *testing.T, _ map[string]string) (uint64, uint64) {
	dir := t.TempDir()
	for i := range rounds {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	return rounds, rounds
}

// getppid calls getppid(2) rounds times.
func getppid(t *testing.T, _ map[string]string) (uint64, uint64) {
	for range rounds {
		unix.Getppid()
	}
	return rounds, rounds
}

const uprobeTarget = "/tmp/ecli-uprobe-target"

// installUprobeTarget puts testdata/attach/uprobe_target where the uprobe sections point.
func installUprobeTarget(t *testing.T) map[string]string {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "attach", "uprobe_target"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := uprobeTarget + "." + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, uprobeTarget); err != nil {
		t.Fatal(err)
	}
	return nil
}

// runUprobeTarget runs the target binary rounds times; each run calls the probed function once.
func runUprobeTarget(t *testing.T, _ map[string]string) (uint64, uint64) {
	for range rounds {
		if out, err := exec.Command(uprobeTarget).CombinedOutput(); err != nil {
			t.Fatalf("running %s: %v %s", uprobeTarget, err, out)
		}
	}
	return rounds, rounds
}

// spin burns CPU in this process so that the CPU clock samples it.
func spin(t *testing.T, _ map[string]string) (uint64, uint64) {
	x := 0
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		for i := range 100000 {
			x += i
		}
	}
	_ = x
	return 1, 1 << 20
}

// udpListener opens a UDP socket on 127.0.0.1 and makes its port the target.
func udpListener(t *testing.T) map[string]string {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	udpConns[t.Name()] = c
	return map[string]string{"target_port": strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)}
}

var udpConns = map[string]net.PacketConn{}

// sendUDP sends rounds datagrams to the listener over lo and reads them back. Each datagram
// passes a given hook once, or twice for a packet socket (outgoing and incoming copy).
func sendUDP(t *testing.T, g map[string]string) (uint64, uint64) {
	l := udpConns[t.Name()]
	c, err := net.Dial("udp4", "127.0.0.1:"+g["target_port"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64)
	for i := range rounds {
		if _, err := c.Write([]byte("ecli attach test " + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		l.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := l.ReadFrom(buf); err != nil {
			t.Fatalf("datagram %d did not arrive: %v", i, err)
		}
	}
	return rounds, 2 * rounds
}

// openFiles opens (and closes) an existing file rounds times: one file_open LSM check each.
func openFiles(t *testing.T, _ map[string]string) (uint64, uint64) {
	for range rounds {
		f, err := os.Open(objPath("lsm"))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return rounds, rounds
}

var tcpListeners = map[string]net.Listener{}

// tcpListener opens a TCP listener on 127.0.0.1 and makes its port the target.
func tcpListener(t *testing.T) map[string]string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tcpListeners[t.Name()] = l
	return map[string]string{"target_port": strconv.Itoa(l.Addr().(*net.TCPAddr).Port)}
}

// connectTCP connects to the listener rounds times (one connect(2) each) and accepts each
// connection, so every connect got through.
func connectTCP(t *testing.T, g map[string]string) (uint64, uint64) {
	l := tcpListeners[t.Name()]
	for i := range rounds {
		c, err := net.DialTimeout("tcp4", "127.0.0.1:"+g["target_port"], 5*time.Second)
		if err != nil {
			t.Fatalf("connect %d: %v", i, err)
		}
		l.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		a, err := l.Accept()
		if err != nil {
			t.Fatalf("accepting connection %d: %v", i, err)
		}
		a.Close()
		c.Close()
	}
	return rounds, rounds
}

var attachCases = []attachCase{
	{"kprobe", probeKprobe, tgidOnly, unlinkFiles, false},
	{"kretprobe", probeKprobe, tgidOnly, unlinkFiles, false},
	{"ksyscall", probeKprobe, tgidOnly, getppid, false},
	{"fentry", probeLoad("fentry"), tgidOnly, unlinkFiles, false},
	{"fexit", probeLoad("fexit"), tgidOnly, unlinkFiles, false},
	{"uprobe", probeUprobe, installUprobeTarget, runUprobeTarget, false},
	{"uretprobe", probeUprobe, installUprobeTarget, runUprobeTarget, false},
	{"tracepoint", probeTracepoint, tgidOnly, getppid, false},
	{"raw_tp", probeProgType(ebpf.RawTracepoint), tgidOnly, getppid, false},
	{"tp_btf", probeLoad("tp_btf"), tgidOnly, getppid, false},
	{"perf_event", probePerfEvent, tgidOnly, spin, false},
	{"xdp", probeProgType(ebpf.XDP), udpListener, sendUDP, true},
	{"tc", probeProgType(ebpf.SchedCLS), udpListener, sendUDP, true}, // tcx (6.6+) or clsact + cls_bpf
	{"cgroup_skb", probeProgType(ebpf.CGroupSKB), udpListener, sendUDP, true},
	{"socket", probeProgType(ebpf.SocketFilter), udpListener, sendUDP, true},
	{"lsm", probeLSM, tgidOnly, openFiles, false},
	{"cgroup_sock_addr", probeProgType(ebpf.CGroupSockAddr), tcpListener, connectTCP, false}, // cgroup/connect4
}

// TestAttach loads each attach type's program, triggers its hook and checks the hit count;
// where the kernel lacks the hook it checks that attaching says so.
func TestAttach(t *testing.T) {
	testutils.RequirePrivileged(t)
	for _, c := range attachCases {
		t.Run(c.name, func(t *testing.T) {
			if !c.ownNetNS {
				testAttach(t, c)
				return
			}
			if err := testutils.NewNetNS(t).Do(func() error { testAttach(t, c); return nil }); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// testAttach is one case of TestAttach.
func testAttach(t *testing.T, c attachCase) {
	present, why := c.probe()
	globals := c.setup(t)
	inst, err := loadAndAttach(t, c.name, globals)
	if !present {
		checkHookMissing(t, c.name, why, err)
		if inst != nil {
			inst.Close()
		}
		return
	}
	if err != nil {
		t.Fatalf("%s has the %s hook, but: %v", kernelRelease(), c.name, err)
	}
	closed := false
	defer func() {
		if !closed {
			inst.Close()
		}
	}()
	hits := inst.Map("hits")
	if hits == nil {
		t.Fatal("no map hits")
	}
	min, max := c.trigger(t, globals)
	var n uint64
	if err := hits.Lookup(uint32(0), &n); err != nil {
		t.Fatalf("reading hits: %v", err)
	}
	if n < min || n > max {
		t.Fatalf("%s on %s: %d hits, want %d..%d", c.name, kernelRelease(), n, min, max)
	}
	closed = true
	closeAndCheck(t, inst)
	t.Logf("ECLI-FEATURE %s ok %d hits on %s", c.name, n, kernelRelease())
}

// checkHookMissing asserts that a kernel without the hook makes attaching fail with the
// hook-missing error naming the hook, and reports the feature as missing.
func checkHookMissing(t *testing.T, name, why string, err error) {
	t.Helper()
	family, _, _ := strings.Cut(name, "/")
	switch {
	case err == nil:
		t.Fatalf("%s lacks %s (%s), yet attaching succeeded", kernelRelease(), name, why)
	case !errors.Is(err, errHookMissing):
		t.Fatalf("%s lacks %s (%s); want a hook-missing error, got: %v", kernelRelease(), name, why, err)
	case !strings.Contains(err.Error(), family):
		t.Fatalf("hook-missing error does not name %s: %v", family, err)
	}
	spec, serr := ebpf.LoadCollectionSpec(objPath(name))
	if serr != nil {
		t.Fatal(serr)
	}
	for pname, p := range spec.Programs {
		if !strings.Contains(err.Error(), pname) || !strings.Contains(err.Error(), p.SectionName) {
			t.Fatalf("hook-missing error does not name program %s (section %s): %v", pname, p.SectionName, err)
		}
	}
	t.Logf("ECLI-FEATURE %s missing %s: %s", name, kernelRelease(), why)
	t.Logf("attach error: %v", err)
}
