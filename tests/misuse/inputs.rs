//! Bad input and misuse of the world: plans, node ids, APIs called outside a
//! simulation, over-long paths.
