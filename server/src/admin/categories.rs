//! Categories (time limits per priority, an optional owning department) and departments: data that
//! decides deadlines and routing, changed by an admin.

use crate::core::Core;
use crate::domain::{Category, Department, WorkerId};
use crate::store::StoreError;

/// Why a category or department was not stored; nothing was.
#[derive(Debug, thiserror::Error)]
pub enum CategoryError {
    /// A category's owning department that does not exist.
    #[error("unknown department {0:?}")]
    UnknownDepartment(String),
    /// A department member that is not a worker.
    #[error("unknown worker {0}")]
    UnknownMember(WorkerId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates or replaces a category (its fields already checked); its department must exist.
pub async fn put_category(core: &Core, category: Category) -> Result<Category, CategoryError> {
    core.write(move |w| async move {
        if let Some(department) = &category.department
            && w.world().department(department).is_none()
        {
            return Err(CategoryError::UnknownDepartment(department.clone()));
        }
        let event = w.store().put_category(&category).await?;
        let stored = category.clone();
        w.stored(event, |world| world.apply_category(stored));
        Ok(category)
    })
    .await
}

/// Creates or replaces a department (its fields already checked); every member must exist.
pub async fn put_department(
    core: &Core,
    department: Department,
) -> Result<Department, CategoryError> {
    core.write(move |w| async move {
        if let Some(&unknown) = department
            .members
            .iter()
            .find(|&&id| w.world().worker(id).is_none())
        {
            return Err(CategoryError::UnknownMember(unknown));
        }
        let event = w.store().put_department(&department).await?;
        let stored = department.clone();
        w.stored(event, |world| world.apply_department(stored));
        Ok(department)
    })
    .await
}
