//! The tag index through the SDK: the services that carry a tag, with their tags, from the
//! Resource Groups Tagging API (`GetResources`) — every cluster of the region in one paginated
//! read, however many other services the fleet has.

use super::aws_error;
use super::ecs::SdkEcs;
use crate::ports::{AwsResult, IndexedService};
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, TagFilter};

/// The most resources GetResources returns a page (AWS's limit).
const RESOURCES_PER_PAGE: i32 = 100;

impl SdkEcs {
    /// ECS services tagged `key`, as the index lists them now.
    pub(super) async fn indexed_services(&self, key: &str) -> AwsResult<Vec<IndexedService>> {
        let mappings: Vec<ResourceTagMapping> = self
            .index
            .get_resources()
            .tag_filters(TagFilter::builder().key(key).build())
            .resource_type_filters("ecs:service")
            .resources_per_page(RESOURCES_PER_PAGE)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|err| aws_error("tag:GetResources", err))?;
        Ok(mappings.into_iter().filter_map(indexed).collect())
    }
}

fn indexed(mapping: ResourceTagMapping) -> Option<IndexedService> {
    let tags = mapping.tags.unwrap_or_default().into_iter().map(|tag| (tag.key, tag.value)).collect();
    Some(IndexedService { arn: mapping.resource_arn?, tags })
}
