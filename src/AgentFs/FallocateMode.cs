namespace AgentFs;

/// <summary>
/// The mode bits of fallocate(2), with Linux's values (FALLOC_FL_*), so the FUSE driver passes the kernel's
/// mode through unchanged. <see cref="AgentFileSystem.InodeOperations.Fallocate(ulong, long, long, FallocateMode, Caller?)"/> does <see cref="Allocate"/>,
/// <see cref="KeepSize"/>, <see cref="PunchHole"/> | <see cref="KeepSize"/> and <see cref="ZeroRange"/> (with
/// or without <see cref="KeepSize"/>) and refuses every other combination with EOPNOTSUPP, as Linux does for
/// modes a filesystem lacks.
/// </summary>
[Flags]
public enum FallocateMode
{
    /// <summary>Mode 0: make the range allocated; the size grows to offset + length when that is larger.</summary>
    Allocate = 0,
    /// <summary>Leave the size alone even when the range reaches past the end.</summary>
    KeepSize = 0x01,
    /// <summary>Make the range read as zeros (only together with <see cref="KeepSize"/>).</summary>
    PunchHole = 0x02,
    /// <summary>Reserved by Linux; refused.</summary>
    NoHideStale = 0x04,
    /// <summary>Remove the range and shift the rest of the file down; refused (see the remarks of Fallocate).</summary>
    CollapseRange = 0x08,
    /// <summary>Make the range read as zeros; without <see cref="KeepSize"/> the size grows to cover it.</summary>
    ZeroRange = 0x10,
    /// <summary>Insert a hole at offset and shift the rest of the file up; refused (see the remarks of Fallocate).</summary>
    InsertRange = 0x20,
    /// <summary>Unshare shared (reflinked) blocks; refused.</summary>
    UnshareRange = 0x40,
    /// <summary>Zero the range by writing zeros to the device (Linux 6.17); refused.</summary>
    WriteZeroes = 0x80,
}
