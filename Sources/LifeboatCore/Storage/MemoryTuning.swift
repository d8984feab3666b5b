import CLinux
import Foundation

/// glibc raises its mmap threshold to the size of the largest block freed so far (up to
/// 32 MiB). scrypt frees 32 MiB right at the start, after which every pack buffer and
/// read window would come from the heap and never be returned, doubling the peak
/// memory of a backup. A fixed threshold keeps large buffers in mmap (the engine pools
/// and reuses them) and small ones in the heap; two arenas are enough for two pools of
/// work and keep freed memory reusable across threads.
public enum MemoryTuning {
    /// Call first thing in `main`, before any large allocation.
    public static func apply() {
        _ = mallopt(M_MMAP_THRESHOLD, 4 << 20)
        // Setting the threshold also pins the trim threshold low; without this the heap
        // shrinks and regrows (page faults on every blob) all through a restore.
        _ = mallopt(M_TRIM_THRESHOLD, 32 << 20)
        _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
    }
}
