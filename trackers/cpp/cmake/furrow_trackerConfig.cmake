# find_package(furrow_tracker): the furrow C++ tracker (furrow::tracker) and its embedded core
# (furrow::tracker_embedded). The tracker is a static library, so its own dependencies are found
# here for the consumer's link.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(CURL)
find_dependency(SQLite3)
include(${CMAKE_CURRENT_LIST_DIR}/furrow_trackerTargets.cmake)
