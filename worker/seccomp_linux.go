package worker

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The job's command runs under a seccomp filter that refuses the system calls
// a PyNN job has no use for and that widen what a process can reach or
// attack: new namespaces (unshare, setns, and clone with namespace flags, so
// no "unshare -Ur"), mounts, kernel modules, keyrings, BPF, perf events,
// userfaultfd, io_uring, kexec, swap, reboot, quotas, process accounting and
// file handles. They fail with EPERM (clone3 with ENOSYS, so that the C
// library falls back to clone, whose flags the filter can read). The filter
// also sets no_new_privs: nothing the job runs gains privileges (setuid
// programs run without them).
//
// Go cannot run code between fork and exec, so the supervisor starts the
// command through a stage of its own binary ("/proc/self/exe" with
// $NMP_SANDBOX_STAGE): already the job's user, in the job's cgroup, the stage
// installs the filter and executes the command.

// stageEnv carries the command to the stage.
const stageEnv = "NMP_SANDBOX_STAGE"

type stageSpec struct {
	Path string   `json:"path"`
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
}

// deniedSyscalls fail with EPERM inside jobs.
var deniedSyscalls = []uintptr{
	unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT,
	unix.SYS_FSOPEN, unix.SYS_FSMOUNT, unix.SYS_FSCONFIG, unix.SYS_FSPICK, unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_MOUNT_SETATTR,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE, unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY, unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT, unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_REBOOT,
	unix.SYS_ACCT, unix.SYS_QUOTACTL, unix.SYS_SYSLOG,
}

// namespaceFlags are clone's flags that make new namespaces.
const namespaceFlags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
	syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP

// auditArch is the seccomp architecture of this build (0: no filter for it).
func auditArch() uint32 {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64
	}
	return 0
}

// seccompFilter is the classic BPF program described above.
func seccompFilter() []unix.SockFilter {
	const (
		ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
		// offsets in struct seccomp_data
		offNr, offArch, offArg0 = 0, 4, 16
	)
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(syscall.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(syscall.ENOSYS))
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
	}
	var p []unix.SockFilter
	p = append(p,
		stmt(ldW, offArch),
		jump(jeq, auditArch(), 1, 0),
		stmt(ret, unix.SECCOMP_RET_KILL_PROCESS), // another ABI (x32, i386 on amd64): not for jobs
		stmt(ldW, offNr),
	)
	if runtime.GOARCH == "amd64" {
		p = append(p, jump(jge, 0x40000000, 0, 1), stmt(ret, eperm)) // x32 numbers
	}
	for _, nr := range deniedSyscalls {
		p = append(p, jump(jeq, uint32(nr), 0, 1), stmt(ret, eperm))
	}
	p = append(p,
		jump(jeq, uint32(unix.SYS_CLONE3), 0, 1), stmt(ret, enosys),
		jump(jeq, uint32(unix.SYS_CLONE), 0, 3),
		stmt(ldW, offArg0), // the flags' low 32 bits (little-endian)
		jump(jset, namespaceFlags, 0, 1),
		stmt(ret, eperm),
		stmt(ret, unix.SECCOMP_RET_ALLOW),
	)
	return p
}

// installSeccomp sets no_new_privs and the filter on the calling thread
// (and what it executes).
func installSeccomp() error {
	if auditArch() == 0 {
		return fmt.Errorf("no seccomp filter for %s", runtime.GOARCH)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	f := seccompFilter()
	prog := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	return nil
}

// stageMain runs in the stage (see above) and does not return on success.
func stageMain(spec string) int {
	var s stageSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintf(os.Stderr, "nmp sandbox: bad stage specification: %v\n", err)
		return 126
	}
	// The filter is installed on this thread, which then executes the command.
	runtime.LockOSThread()
	if err := installSeccomp(); err != nil {
		fmt.Fprintf(os.Stderr, "nmp sandbox: %v\n", err)
		return 126
	}
	err := syscall.Exec(s.Path, s.Argv, s.Env)
	fmt.Fprintf(os.Stderr, "nmp sandbox: cannot run %s: %v\n", strings.Join(s.Argv[:1], ""), err)
	if err == syscall.ENOENT {
		return 127
	}
	return 126
}
