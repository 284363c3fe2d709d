//! Dispatch (任务派遣) decisions as pure logic: when an assignment is due, and who gets a new incident.
//!
//! - [`calendar`] owns working time: a [`calendar::WorkCalendar`] turns a limit counted in working hours
//!   (限时办结) into a deadline instant, and measures the working time between two instants for KPIs.
//! - [`routing`] owns the routing chain (category department → grid primary → grid backup → nearest
//!   on-duty worker → community queue, 属地兜底) and records why each route was chosen.
//!
//! Nothing here does IO, awaits, touches the store or knows about HTTP: callers gather plain data from the
//! world, call these functions, and record the result themselves.

pub mod calendar;
pub mod routing;
