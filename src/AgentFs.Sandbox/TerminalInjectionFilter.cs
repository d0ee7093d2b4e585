using System.Runtime.InteropServices;

namespace AgentFs.Sandbox;

/// <summary>
/// A seccomp program (classic BPF, the format bwrap --seccomp reads) that fails ioctl(TIOCSTI) and
/// ioctl(TIOCLINUX) with EPERM and allows everything else. TIOCSTI pushes characters into a terminal's input:
/// a process in the sandbox holding the user's terminal could type a command that the user's shell runs
/// after <c>agentfs run</c> ends, outside the sandbox. Flatpak filters the same two requests.
/// Architectures: x86_64 (and its i386 compat calls; x32 calls are refused whole), aarch64.
/// </summary>
internal static class TerminalInjectionFilter
{
    private const ushort LdAbsW = 0x20, JeqK = 0x15, JsetK = 0x45, RetK = 0x06;
    private const uint ArchX86_64 = 0xC000003E, ArchI386 = 0x40000003, ArchAarch64 = 0xC00000B7;
    private const uint X32Bit = 0x40000000;
    private const uint IoctlX86_64 = 16, IoctlI386 = 54, IoctlAarch64 = 29;
    private const uint Tiocsti = 0x5412, Tioclinux = 0x541C;
    private const uint RetAllow = 0x7FFF0000, RetErrnoEperm = 0x00050000 | 1;
    // struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]. args[1]'s low word (little endian).
    private const uint OffNr = 0, OffArch = 4, OffArg1Low = 24;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFilter
    {
        public ushort Code;
        public byte Jt, Jf;
        public uint K;
    }

    /// <summary>The program as bytes (struct sock_filter[], native byte order).</summary>
    public static byte[] Program()
    {
        // Jump offsets count instructions after the next one; the labels are the indexes in this list.
        const int checkI386 = 5, checkArm = 8, checkArg = 11, allow = 14, deny = 15;
        var p = new SockFilter[]
        {
            /* 0 */ Ld(OffArch),
            /* 1 */ Jeq(ArchX86_64, 1, 2, checkI386),
            /* 2 */ Ld(OffNr),
            /* 3 */ Jump(JsetK, X32Bit, 3, deny, 4),
            /* 4 */ Jeq(IoctlX86_64, 4, checkArg, allow),
            /* 5 */ Jeq(ArchI386, 5, 6, checkArm),
            /* 6 */ Ld(OffNr),
            /* 7 */ Jeq(IoctlI386, 7, checkArg, allow),
            /* 8 */ Jeq(ArchAarch64, 8, 9, allow),
            /* 9 */ Ld(OffNr),
            /* 10 */ Jeq(IoctlAarch64, 10, checkArg, allow),
            /* 11 */ Ld(OffArg1Low),
            /* 12 */ Jeq(Tiocsti, 12, deny, 13),
            /* 13 */ Jeq(Tioclinux, 13, deny, allow),
            /* 14 */ Ret(RetAllow),
            /* 15 */ Ret(RetErrnoEperm),
        };
        return MemoryMarshal.AsBytes(p.AsSpan()).ToArray();
    }

    private static SockFilter Ld(uint offset) => new() { Code = LdAbsW, K = offset };

    private static SockFilter Ret(uint value) => new() { Code = RetK, K = value };

    private static SockFilter Jeq(uint value, int at, int ifTrue, int ifFalse) => Jump(JeqK, value, at, ifTrue, ifFalse);

    private static SockFilter Jump(ushort code, uint value, int at, int ifTrue, int ifFalse) => new()
    {
        Code = code,
        K = value,
        Jt = checked((byte)(ifTrue - at - 1)),
        Jf = checked((byte)(ifFalse - at - 1)),
    };
}
