// Rust fixture for the symbolize tests: prints the address of a function, then blocks on stdin.
#[inline(never)]
pub fn spin_here(x: u64) -> u64 {
    x.wrapping_mul(31) ^ 7
}

fn main() {
    println!("spin={:p}", spin_here as fn(u64) -> u64 as *const ());
    let mut s = String::new();
    let _ = std::io::stdin().read_line(&mut s);
    std::process::exit((spin_here(s.len() as u64) & 1) as i32);
}
