package offcputime_test

import (
	_ "embed"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecli/internal/testutils/tooltest"
	"ecli/runner"
)

func TestMain(m *testing.M) { tooltest.Main(m) }

// --- tests without privileges ---------------------------------------------------------------

func TestPackageOptions(t *testing.T) {
	pkg := tooltest.Builtin(t, "offcputime")
	for _, tc := range []struct{ global, long, short, role string }{
		{"targ_tgid", "pid", "p", ""},
		{"targ_pid", "tid", "t", ""},
		{"user_threads_only", "user-threads-only", "u", ""},
		{"kernel_threads_only", "kernel-threads-only", "k", ""},
		{"user_stacks_only", "user-stacks-only", "U", ""},
		{"kernel_stacks_only", "kernel-stacks-only", "K", ""},
		{"delimited", "delimited", "d", ""},
		{"folded", "folded", "f", ""},
		{"offset", "offset", "s", ""},
		{"stack_storage_size", "stack-storage-size", "", ""},
		{"min_block_us", "min-block-time", "m", ""},
		{"max_block_us", "max-block-time", "M", ""},
		{"targ_state", "state", "", ""},
		{"duration", "duration", "", runner.RoleDuration},
	} {
		o := pkg.OptionByFlag(tc.long)
		if o == nil {
			t.Errorf("no option --%s", tc.long)
			continue
		}
		if o.Name != tc.global || o.Short != tc.short || o.Role != tc.role {
			t.Errorf("--%s: %s -%s role %q, want %s -%s role %q", tc.long, o.Name, o.Short, o.Role, tc.global, tc.short, tc.role)
		}
	}
	outs, err := pkg.Outputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].Map != "counts" || outs[0].Kind != runner.OutputSample {
		t.Fatalf("outputs %+v, want the sampled map counts", outs)
	}
}

// --- privileged end-to-end tests ------------------------------------------------------------

// sleeper sleeps 300 ms at a time in sleep_leaf, called by sleep_middle, called by main. The
// nanosleep system call is made from sleep_leaf itself, so no libc frame (built without
// frame pointers) hides it from the frame-pointer walk.
// The C program lives in testdata/ so that the VM lane, which has no compiler, can run the
// binary it builds from it (tooltest.CompileC).
//
//go:embed testdata/sleeper.c
var sleeper string

const sleepUS = 300000

// checkSlept checks the off-CPU time summed over the sleeper's stacks in a 2 s run: at least
// 3 whole sleeps of sleepUS fit in it even with 200 ms of wake-up latency each, and it
// cannot exceed the run.
func checkSlept(t *testing.T, us uint64) {
	t.Helper()
	if us < 3*sleepUS || us > 2_200_000 {
		t.Errorf("%d us off CPU in 2 s, want at least 3 sleeps of %d us and at most the 2 s run", us, sleepUS)
	}
}

func TestSleeper(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps for 2 s")
	}
	exe := tooltest.CompileC(t, "sleeper", sleeper, tooltest.VMCFlags...)
	t.Run("default", func(t *testing.T) {
		t.Parallel()
		pid := tooltest.StartReady(t, exe).Process.Pid
		lines := tooltest.Start(t, "offcputime", "-p", strconv.Itoa(pid), "2").Wait(30 * time.Second)
		out := strings.Join(lines, "\n")
		// bcc: frames "    %s" (ksym/sym without offset), "    %-16s %s (%d)", "        %d", "".
		block := regexp.MustCompile(`(?m)((?:^    [^ -].*\n)+)^    -                sleeper \(` + strconv.Itoa(pid) + `\)\n^        ([0-9]+)\n^$`)
		chain := regexp.MustCompile(`(?m)^    schedule\n(?:.*\n)*^    sleep_leaf\n^    sleep_middle\n^    main\n`)
		// A sleep may be split over stacks (an early wake-up blocks again from another
		// path): sum the sleeper's blocks through sleep_leaf.
		found, sum := false, uint64(0)
		for _, m := range block.FindAllStringSubmatch(out+"\n", -1) {
			if chain.MatchString(m[1]) {
				found = true
				us, _ := strconv.ParseUint(m[2], 10, 64)
				sum += us
			}
		}
		if !found {
			t.Fatalf("no block schedule ... sleep_leaf <- sleep_middle <- main for sleeper in\n%s", out)
		}
		checkSlept(t, sum)
	})
	t.Run("folded user stacks", func(t *testing.T) {
		t.Parallel()
		pid := tooltest.StartReady(t, exe).Process.Pid
		lines := tooltest.Start(t, "offcputime", "-f", "-U", "-p", strconv.Itoa(pid), "2").Wait(30 * time.Second)
		re := regexp.MustCompile(`^sleeper;(?:[^; ]+;)*main;sleep_middle;sleep_leaf ([0-9]+)$`)
		found, sum := false, uint64(0)
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				found = true
				us, _ := strconv.ParseUint(m[1], 10, 64)
				sum += us
			}
		}
		if !found {
			t.Fatalf("no folded sleeper;...;main;sleep_middle;sleep_leaf US in\n%s", strings.Join(lines, "\n"))
		}
		checkSlept(t, sum)
	})
}
